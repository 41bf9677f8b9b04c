"""``activations sandbox serve``: run the ESP sandbox in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from activations.errors import UserError
from activations.sandbox.settings import SandboxSettings

DEFAULT_STATE_DIR = Path(".sandbox")

sandbox_app = typer.Typer(help="The local ESP sandbox (Braze, Klaviyo, Mailchimp, SendGrid, "
                               "Customer.io; SMS: Infobip, Twilio).", no_args_is_help=True)


@sandbox_app.command("serve")
def serve(
    port: Annotated[int, typer.Option(help="TCP port on the host (0 picks a free one).")] = 8765,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    state_dir: Annotated[Path, typer.Option(help="Folder for the persisted state.")] = (
        DEFAULT_STATE_DIR),
    webhook_url: Annotated[str | None, typer.Option(
        help="Where to post reporting webhooks; '{provider}' is replaced by its name.")] = None,
) -> None:
    """Serve every provider's API, the control API and the marketer page."""
    from activations.sandbox.server import serve_forever

    if not 0 <= port <= 65535:
        raise UserError(f"--port {port} is not a TCP port", hint="use 0-65535")
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise UserError(f"--webhook-url {webhook_url!r} is not an http(s) URL",
                        hint="e.g. --webhook-url http://127.0.0.1:8766/hooks/{provider}")
    settings = SandboxSettings(state_dir=state_dir.expanduser().resolve(),
                               webhook_url=webhook_url)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    typer.echo(f"ESP sandbox on http://{shown}:{port}/ (state in {settings.state_dir})")
    serve_forever(host=host, port=port, settings=settings)


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
