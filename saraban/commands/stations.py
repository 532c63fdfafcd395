"""saraban watch / backfill / status / deploy: scanning stations and paper archives (issue 7)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from saraban.cli import _print_json, app, err, prefect_defaults

OUTCOMES_TH = {"routed": "ส่งเข้ากล่องหนังสือแล้ว", "needs_review": "รอตรวจทาน", "duplicate": "ซ้ำ (นำเข้าไว้แล้ว)",
               "failed": "นำเข้าไม่ได้"}


@app.command()
def watch(folder: Annotated[Path, typer.Argument(help="the shared folder: one subfolder per station")],
          stable_seconds: Annotated[float | None, typer.Option(
              "--stable-seconds", help="take a file once its size and mtime are unchanged this long")] = None,
          once: Annotated[bool, typer.Option("--once", help="take in what is there now, then stop")] = False,
          workers: Annotated[int | None, typer.Option(help="files read at once (default: cores)")] = None,
          polling: Annotated[bool | None, typer.Option(
              "--polling/--inotify", help="default: polling on network shares, inotify elsewhere")] = None,
          minutes: Annotated[float | None, typer.Option(help="stop after this long (default: never)")] = None,
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Watch a scanning-station folder: take in each complete file, then move it to done/ or failed/."""
    prefect_defaults()
    if not folder.is_dir():
        err.print(f"[red]ไม่พบโฟลเดอร์ {folder}[/red]")
        raise typer.Exit(2)
    from flows.watch import watch_folder

    if not once:
        err.print(f"เฝ้าโฟลเดอร์ {folder.resolve()} (กด Ctrl-C เพื่อหยุด)")
    try:
        result = watch_folder(str(folder), stable_seconds=stable_seconds, workers=workers, minutes=minutes,
                              once=once, polling=polling)
    except KeyboardInterrupt:  # files being read stay in processing/ and are taken again at the next start
        err.print("หยุดเฝ้าโฟลเดอร์แล้ว")
        raise typer.Exit(130) from None
    if as_json:
        _print_json(result)
    else:
        counts = "  ".join(f"{label}: {result.get(key, 0)}" for key, label in OUTCOMES_TH.items())
        Console().print(f"นำเข้าจาก {result['folder']}: {counts}")
    raise typer.Exit(1 if result.get("failed") else 0)


class _RateColumn(ProgressColumn):
    """Letters per minute, from rich's own speed estimate."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed * 60:.0f} ฉบับ/นาที" if speed else "- ฉบับ/นาที", style="cyan")


@app.command()
def backfill(folders: Annotated[list[Path], typer.Argument(help="folders (or files) of old scans")],
             workers: Annotated[int | None, typer.Option(
                 help="letters read at once: threads, Dask or Prefect workers (default: cores)")] = None,
             report: Annotated[Path | None, typer.Option(help="CSV report (default under home)")] = None,
             engine: Annotated[str, typer.Option(help="threads | dask | workers")] = "threads",
             batch: Annotated[str | None, typer.Option(
                 help="batch name; the same folders resume the same batch by default")] = None,
             station: Annotated[str | None, typer.Option(help="station recorded on the letters")] = None,
             chunk_size: Annotated[int, typer.Option(help="files per Prefect task")] = 8,
             dask_address: Annotated[str | None, typer.Option(help="a Dask scheduler (engine dask)")] = None,
             as_json: Annotated[bool, typer.Option("--json", help="the summary as JSON")] = False) -> None:
    """Take in a paper archive: every scan once, resumable after a crash, with a report."""
    prefect_defaults()
    from saraban import backfill as plain
    from saraban.app import App
    from saraban.status import write_state

    application = App.create()
    missing = [f for f in folders if not f.exists()]
    if missing:
        err.print(f"[red]ไม่พบ {', '.join(map(str, missing))}[/red]")
        raise typer.Exit(2)
    batch = batch or plain.batch_id(folders)
    files = len(plain.find_scans(folders))
    report = report or application.settings.resolved_home / "reports" / \
        f"{batch}-{dt.datetime.now():%Y%m%d-%H%M%S}.csv"
    state = {"batch": batch, "files": files, "workers": workers or os.cpu_count() or 1, "engine": engine,
             "folders": [str(f.resolve()) for f in folders]}
    write_state(application, "backfill", batch, state)
    from flows.backfill import backfill_flow

    outcome: dict[str, Any] = {}

    def run() -> None:
        outcome["summary"] = backfill_flow([str(f) for f in folders], station=station, batch=batch,
                                           workers=workers, engine=engine, chunk_size=chunk_size,
                                           dask_address=dask_address, report=str(report))

    try:
        _with_progress(application, batch, files, run,
                       lambda: write_state(application, "backfill", batch, state))
    finally:
        write_state(application, "backfill", batch, {**state, "finished": True})
    summary = outcome["summary"]
    if as_json:
        _print_json({**summary, "report": str(report)})
    else:
        _print_summary(summary, report)
    raise typer.Exit(1 if summary.get("failed") else 0)


def _with_progress(application: Any, batch: str, total: int, run: Any, heartbeat: Any) -> None:
    """Run the flow while a bar shows files recorded for the batch (read from the database, so it is
    right on every engine, even when other machines do the work)."""
    from saraban.backfill import recorded_count

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
               TextColumn("เหลือ"), TimeRemainingColumn(), TextColumn("ใช้ไป"), TimeElapsedColumn())
    done = threading.Event()
    error: list[BaseException] = []

    def target() -> None:
        try:
            run()
        except BaseException as exc:  # shown after the bar closes
            error.append(exc)
        finally:
            done.set()

    already = recorded_count(application, batch)
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(f"นำเข้า {batch}", total=max(total - already, 0))
        worker = threading.Thread(target=target, name="backfill", daemon=True)
        worker.start()
        last_beat = 0.0
        while not done.wait(1.0):
            progress.update(task, completed=max(0, recorded_count(application, batch) - already))
            if time.monotonic() - last_beat > 10:
                last_beat = time.monotonic()
                heartbeat()
        progress.update(task, completed=max(0, recorded_count(application, batch) - already))
    if error:
        raise error[0]


def _print_summary(summary: dict, report: Path) -> None:
    from saraban.backfill import reason_label

    console = Console()
    table = Table(title=f"สรุปการนำเข้า {summary['batch']} ({summary['files']} แฟ้ม, {summary['seconds']} วินาที)")
    table.add_column("ผล")
    table.add_column("จำนวน", justify="right")
    table.add_column("สาเหตุ")
    for key, label in OUTCOMES_TH.items():
        reasons = summary["by_reason"].get(key, {})
        detail = ", ".join(f"{reason_label(code)} {n}" for code, n in reasons.items())
        table.add_row(label, str(summary.get(key, 0)), detail)
    console.print(table)
    console.print(f"รายงานรายแฟ้ม: {report}")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False,
           folder: Annotated[list[Path] | None, typer.Option(
               "--folder", help="also count this watched folder")] = None) -> None:
    """Letters stored, queue depth, in progress, failed in the last 24 h, throughput over the last hour."""
    from saraban.app import App
    from saraban.status import status as read_status

    data = read_status(App.create(), folder or [])
    if as_json:
        _print_json(data)
        return
    console = Console()
    console.print(f"หนังสือในระบบ {data['letters']} ฉบับ  รอนำเข้า {data['queue_depth']}"
                  f"  กำลังนำเข้า {data['in_progress']}"
                  f"  ไม่สำเร็จใน 24 ชม. {data['failed_24h']}"
                  f"  ชั่วโมงที่ผ่านมา {data['throughput_last_hour']} แฟ้ม"
                  f" ({data['per_minute_last_hour']} แฟ้ม/นาที)")
    for row in data["folders"]:
        console.print(f"  {row['folder']}: รอ {row['waiting']}  กำลังทำ {row['processing']}"
                      f"  อยู่ใน failed/ {row['failed_files']}")
    for row in data["backfills"]:
        console.print(f"  {row['batch']}: เสร็จ {row['done']} / {row['files']}"
                      f"  ({row['engine']}, {row['host']})")


@app.command()
def deploy(pool: Annotated[str, typer.Option(help="a process work pool (created if missing)")] = "saraban",
           watch_folders: Annotated[list[Path] | None, typer.Option(
               "--watch", help="also deploy a watcher of this folder")] = None,
           minutes: Annotated[float, typer.Option(help="length of a watcher shift")] = 60.0) -> None:
    """Deploy the backfill parts (and watchers) to a work pool for `prefect worker start` on each machine."""
    prefect_defaults()
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    from flows.backfill import deploy_part
    from flows.watch import deploy_watch

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    typer.echo(f"backfill-part → {pool}: {deploy_part(pool)}")
    for folder in watch_folders or []:
        typer.echo(f"watch-folder {folder} → {pool}: {deploy_watch(str(folder), pool, minutes=minutes)}")
