"""``activations consent pull`` and ``activations webhooks serve``."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from activations.consent.credentials import PROVIDERS, configured, provider_settings
from activations.contract.records import PermanentError, ProviderSettings, TransientError
from activations.errors import UserError
from activations.paths import duckdb_path
from activations.providers import registry

consent_app = typer.Typer(
    help="Consent flowing back from the email providers.", no_args_is_help=True
)
webhooks_app = typer.Typer(
    help="Receive the email providers' reporting webhooks.", no_args_is_help=True
)


def _settings(name: str, sandbox: str | None) -> ProviderSettings:
    """``name``'s credentials: the sandbox's own (its URL and demo key, whatever
    the environment holds) when one is named, else the environment's or the syncs'."""
    if not sandbox:
        return provider_settings(name)
    from activations.sandbox.env import credentials

    if name not in PROVIDERS:
        raise UserError(f"unknown provider {name!r}", hint=f"use one of: {', '.join(PROVIDERS)}")
    base_url, key = credentials(name, sandbox)
    return registry.settings(name, key, base_url)


@consent_app.command("pull")
def pull_command(
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider", "-p", help="Provider to pull (repeatable); default: every configured one."
        ),
    ] = None,
    sandbox: Annotated[
        str | None, typer.Option(help="Pull from the local ESP sandbox at this URL (demo keys).")
    ] = None,
) -> None:
    """Land unsubscribes, bounces and spam complaints from each provider in raw.consents
    and raw.email_events (idempotent: pulling twice adds nothing)."""
    from activations.consent.landing import Landed
    from activations.consent.pull import pull
    from activations.warehouse.connections import connect

    sandbox = sandbox or os.environ.get("ACTIVATIONS_SANDBOX_URL") or None
    names = provider or [p for p in PROVIDERS if sandbox or configured(p)]
    if not names:
        raise UserError(
            "no provider is configured for the consent pull-back",
            hint="set e.g. KLAVIYO_API_KEY, pass --provider, or --sandbox http://127.0.0.1:PORT",
        )
    settings = {name: _settings(name, sandbox) for name in names}
    total = Landed()
    conn = connect()  # ACTIVATIONS_WAREHOUSE (PostgreSQL) or the DuckDB file of DUCKDB_PATH
    try:
        for name in names:
            try:
                landed = pull(conn, name, settings[name])
            except (TransientError, PermanentError) as exc:
                raise UserError(
                    f"consent pull from {name} failed: {exc}",
                    hint="check the key and base URL, then run the pull again",
                ) from None
            total = total + landed
            typer.echo(
                f"{name}: {landed.seen} signals, {landed.consents} new consent rows, "
                f"{landed.email_events} new email events"
            )
    finally:
        conn.close()
    typer.echo(f"total: {total.consents} new consent rows, {total.email_events} new email events")


@webhooks_app.command("serve")
def serve_command(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0 picks a free one).")] = 8766,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ACTIVATIONS_WEBHOOK_TOKEN", help="Require ?token=... on every delivery."
        ),
    ] = None,
) -> None:
    """Serve POST /hooks/{braze|klaviyo|mailchimp|sendgrid|customerio}, landing what
    the providers report in raw.consents and raw.email_events."""
    import uvicorn

    from activations.consent.receiver import create_app

    warehouse = os.environ.get("ACTIVATIONS_WAREHOUSE") or str(duckdb_path())
    shown = (
        "PostgreSQL (ACTIVATIONS_WAREHOUSE)"
        if os.environ.get("ACTIVATIONS_WAREHOUSE")
        else warehouse
    )
    typer.echo(f"webhook receiver on http://{host}:{port}/hooks/<provider>, landing in {shown}")
    # no access log: a delivery URL carries the token
    uvicorn.run(
        create_app(warehouse, token=token),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(consent_app, name="consent")
    app.add_typer(webhooks_app, name="webhooks")
