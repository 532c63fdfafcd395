"""`saraban`: the command line (shapes in ../shared/contracts.md; outside scripts rely on them)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Saraban intake: scanned Thai official letters from file to inbox.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
register_app = typer.Typer(help="The outgoing register (ทะเบียนหนังสือส่ง).", no_args_is_help=True)
directory_app = typer.Typer(help="The directory of units and groups.", no_args_is_help=True)
app.add_typer(register_app, name="register")
app.add_typer(directory_app, name="directory")
err = Console(stderr=True)


def prefect_defaults() -> None:
    """Prefect settings this machine needs, unless the operator set them (no internet; slow start)."""
    from saraban.settings import get_settings

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    prefect_home = get_settings().resolved_home / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(prefect_home))
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@app.command()
def extract(files: Annotated[list[Path], typer.Argument(help="scans: PDF, TIFF, JPEG, PNG")],
            as_json: Annotated[bool, typer.Option("--json", help="one JSON object per file (JSON Lines)")] = False,
            ) -> None:
    """Read scans and print what they say. Touches no database or store."""
    from pipeline.errors import IntakeError
    from pipeline.reader import read_letter

    failed = False
    for path in files:
        try:
            letter = read_letter(path, display_name=str(path))
            data = letter.to_dict()
        except IntakeError as exc:
            failed = True
            data = {"file": str(path), "error": exc.reason, "code": exc.code, "detail": exc.detail}
        except Exception as exc:  # one bad file must not stop the rest
            failed = True
            data = {"file": str(path), "error": "เกิดข้อผิดพลาดภายในระบบ", "code": "internal_error", "detail": repr(exc)}
        if as_json:
            _print_json(data)
        else:
            _print_extraction(data)
    raise typer.Exit(1 if failed else 0)


def _print_extraction(data: dict) -> None:
    console = Console()
    if "error" in data:
        console.print(f"[red]{data['file']}: {data['error']}[/red]")
        return
    console.print(f"[bold]{data['file']}[/bold] ({data['kind']}, {data['pages']} หน้า, {data['seconds']} s)")
    for name in ("number", "date", "subject", "addressee"):
        field = data.get(name) or {}
        console.print(f"  {name:10s} {field.get('value')!s:60s} {field.get('confidence', 0):.2f}")
    for name in ("references", "attachments"):
        for item in data[name]:
            console.print(f"  {name:10s} {item}")
    console.print(f"  urgency={data['urgency']} secrecy={data['secrecy']} attachment_pages={data['attachment_pages']}"
                  f" missing_attachments={data['missing_attachments']} review={data['review_reasons']}")


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="files or folders of scans")],
           as_json: Annotated[bool, typer.Option("--json")] = False,
           station: Annotated[str | None, typer.Option(help="station name recorded on the letters")] = None,
           ) -> None:
    """The whole intake (read, check, store, route) through the Prefect flow."""
    prefect_defaults()
    from flows.intake import ingest as ingest_flow

    results = ingest_flow([str(p) for p in paths], station)
    if as_json:
        for result in results:
            _print_json(result)
    else:
        from saraban.report import print_intake_table

        print_intake_table(results)
    raise typer.Exit(1 if any(r["status"] == "failed" for r in results) else 0)


@register_app.command("import")
def register_import(file: Path) -> None:
    """Import the register from CSV or XLSX (columns number,date,subject,sender). All or nothing."""
    from saraban.app import App
    from storage.register import RegisterImportError, import_register

    application = App.create()
    try:
        with application.db.session() as session:
            added, updated = import_register(session, file)
    except RegisterImportError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    typer.echo(f"นำเข้าทะเบียนแล้ว: เพิ่ม {added} รายการ ปรับปรุง {updated} รายการ")


@register_app.command("add")
def register_add(number: str, date: str, subject: str, sender: Annotated[str, typer.Option()] = "") -> None:
    """Add one register entry: NUMBER DATE SUBJECT [--sender S]."""
    from saraban.app import App
    from storage.register import RegisterImportError, add_entry

    try:
        with App.create().db.session() as session:
            record = add_entry(session, number, date, subject, sender)
    except RegisterImportError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    typer.echo(f"เพิ่มในทะเบียนแล้ว: {record.number.canonical} ลงวันที่ {record.date.isoformat()}")


@directory_app.command("import")
def directory_import(file: Path) -> None:
    """Import the directory from YAML (domain.md §8) or CSV. All or nothing."""
    from saraban.app import App
    from storage.directory import DirectoryImportError, import_directory

    try:
        with App.create().db.session() as session:
            directory = import_directory(session, file)
    except DirectoryImportError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    typer.echo(f"นำเข้าทำเนียบแล้ว: {len(directory.units)} หน่วยงาน {len(directory.groups)} กลุ่ม")


@app.command("inbox")
def inbox_command(unit: str, as_json: Annotated[bool, typer.Option("--json")] = False,
                  status: Annotated[str | None, typer.Option(help="new | received | returned")] = None) -> None:
    """A unit's inbox, most urgent first, then newest."""
    from saraban.app import App
    from storage.inbox import inbox, item_json

    with App.create().db.session() as session:
        items = [item_json(i) for i in inbox(session, unit, status=status)]
    if as_json:
        for item in items:
            _print_json(item)
        return
    from saraban.report import print_inbox

    print_inbox(unit, items)


@app.command()
def receive(letter: int, unit: Annotated[str, typer.Option("--unit")],
            actor: Annotated[str, typer.Option()] = "cli") -> None:
    """Receive a letter into a unit: it gets the unit's next receive number (เลขรับ)."""
    from saraban.app import App
    from storage.inbox import InboxError
    from storage.inbox import receive as receive_item

    try:
        with App.create().db.session() as session:
            item = receive_item(session, letter, unit, actor=actor)
            number, year = item.receive_number, item.receive_year
    except InboxError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    _print_json({"letter_id": letter, "unit": unit, "receive_number": number, "receive_year": year})


@app.command("return")
def return_command(letter: int, unit: Annotated[str, typer.Option("--unit")],
                   reason: Annotated[str, typer.Option("--reason")],
                   actor: Annotated[str, typer.Option()] = "cli") -> None:
    """A unit returns a letter, with a reason (e.g. "ไม่ใช่หนังสือของหน่วยงาน")."""
    from saraban.app import App
    from storage.inbox import InboxError, return_letter

    try:
        with App.create().db.session() as session:
            return_letter(session, letter, unit, reason, actor=actor)
    except InboxError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    _print_json({"letter_id": letter, "unit": unit, "status": "returned", "reason": reason})


def _register_command_groups() -> None:
    import importlib

    for module in ("reconcile", "stations", "web"):
        importlib.import_module(f"saraban.commands.{module}")


_register_command_groups()

if __name__ == "__main__":
    app()
