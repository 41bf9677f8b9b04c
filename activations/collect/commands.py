"""``activations collect serve``."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated

import typer

from activations.errors import UserError
from activations.paths import duckdb_path

collect_app = typer.Typer(
    help="Collect events from sites and apps (Segment's HTTP Tracking API).",
    no_args_is_help=True,
)


@collect_app.command("serve")
def serve_command(
    port: Annotated[int, typer.Option(help="TCP port.")] = 8767,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    write_key: Annotated[
        str | None,
        typer.Option(
            envvar="ACTIVATIONS_WRITE_KEY",
            help="Write key(s) the sites send as the Basic auth username (comma-separated).",
        ),
    ] = None,
    batch_calls: Annotated[
        int, typer.Option(min=1, help="Write a micro-batch once it holds this many calls.")
    ] = 2000,
    batch_ms: Annotated[
        int, typer.Option(min=1, help="... or once its first call has waited this long.")
    ] = 10,
    dedupe_hours: Annotated[
        float,
        typer.Option(min=0.0, help="A messageId already landed this recently is skipped."),
    ] = 24.0,
) -> None:
    """Serve POST /v1/track|identify|page|batch (and /v1/t, /v1/i, /v1/p), landing
    calls in raw.events and raw.identifies; each answer waits for its batch's commit."""
    from activations.collect.server import serve_forever

    keys = [k.strip() for k in (write_key or "").split(",") if k.strip()]
    if not keys:
        raise UserError(
            "the collector needs a write key",
            hint="pass --write-key KEY or set ACTIVATIONS_WRITE_KEY; sites send it as the "
            "Basic auth username with an empty password",
        )
    warehouse = os.environ.get("ACTIVATIONS_WAREHOUSE") or str(duckdb_path())
    shown = (
        "PostgreSQL (ACTIVATIONS_WAREHOUSE)"
        if os.environ.get("ACTIVATIONS_WAREHOUSE")
        else warehouse
    )
    typer.echo(
        f"event collector on http://{host}:{port}/v1/{{track,identify,page,batch}}, "
        f"landing in {shown}",
    )
    serve_forever(
        warehouse,
        host=host,
        port=port,
        write_keys=keys,
        max_batch_calls=batch_calls,
        max_batch_wait=batch_ms / 1000,
        dedupe_window=timedelta(hours=dedupe_hours),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(collect_app, name="collect")
