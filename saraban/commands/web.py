"""saraban serve / user: the operator and unit web app (issue 8)."""

from __future__ import annotations

from typing import Annotated

import typer

from saraban.cli import app, err

user_app = typer.Typer(help="Users of the web app.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@app.command()
def serve(host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port to listen on")] = 8000) -> None:
    """Run the web app (review queue, returns, unit inboxes, administration) with uvicorn."""
    from review.server import serve as run
    from saraban.app import App

    application = App.create()
    if host not in ("127.0.0.1", "localhost", "::1") and not application.settings.cookie_secure:
        err.print("[yellow]คำเตือน: เปิดให้เครื่องอื่นเข้าถึงโดยไม่ได้ตั้ง SARABAN_COOKIE_SECURE=true "
                  "ควรให้บริการผ่าน HTTPS[/yellow]")
    typer.echo(f"saraban web app: http://{host}:{port}/")
    run(application, host, port)


@user_app.command("add")
def user_add(username: str,
             role: Annotated[str, typer.Option(help="operator | clerk | admin")],
             unit: Annotated[str | None, typer.Option(help="the clerk's unit id (directory)")] = None,
             password: Annotated[str | None, typer.Option(help="asked for when not given")] = None,
             display_name: Annotated[str, typer.Option(help="name shown in the app")] = "") -> None:
    """Add a user: USERNAME --role operator|clerk|admin [--unit U] [--password P]."""
    from review.auth import UserError, add_user
    from saraban.app import App

    if password is None:
        password = typer.prompt("รหัสผ่าน", hide_input=True, confirmation_prompt=True)
    try:
        with App.create().db.session() as session:
            add_user(session, username, password, role, unit_id=unit, display_name=display_name, actor="cli")
    except UserError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    typer.echo(f"เพิ่มผู้ใช้ {username} ({role}{f', {unit}' if unit else ''}) แล้ว")
