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


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def webhook_secrets() -> dict[str, str]:
    """provider -> verification secret, from each provider's variable (see
    ``activations.providers.<name>.hooks``: BRAZE_WEBHOOK_TOKEN, KLAVIYO_WEBHOOK_SECRET,
    MAILCHIMP_WEBHOOK_SECRET, SENDGRID_WEBHOOK_PUBLIC_KEY, CUSTOMERIO_WEBHOOK_SIGNING_KEY)."""
    values = {}
    for name in registry.EMAIL_PROVIDERS:
        variable = registry.hook_secret_variable(name)
        if variable and os.environ.get(variable, "").strip():
            values[name] = os.environ[variable].strip()
    return values


@webhooks_app.command("serve")
def serve_command(
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8766,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ACTIVATIONS_WEBHOOK_TOKEN",
            help="Also require ?token=... (or X-Webhook-Token) on every delivery.",
        ),
    ] = None,
    allow_unsigned: Annotated[
        bool,
        typer.Option(
            "--allow-unsigned",
            help="Take deliveries from providers with no secret set, unverified "
            "(loopback only; for local experiments).",
        ),
    ] = False,
    max_body_bytes: Annotated[
        int, typer.Option(min=1024, help="Refuse bodies larger than this (413).")
    ] = 2 * 1024 * 1024,
) -> None:
    """Serve POST /hooks/{braze|klaviyo|mailchimp|sendgrid|customerio}, landing what
    the providers report in raw.consents and raw.email_events. Each provider's
    deliveries are verified with its own scheme and the secret in its variable;
    a provider with no secret set is refused."""
    import uvicorn

    from activations.consent.receiver import create_app
    from activations.providers.sendgrid.hooks import check_key

    secrets = webhook_secrets()
    variables = {name: registry.hook_secret_variable(name) for name in registry.EMAIL_PROVIDERS}
    if "sendgrid" in secrets:
        try:
            check_key(secrets["sendgrid"])
        except ValueError as exc:
            raise UserError(str(exc), hint="copy the verification key again") from None
    if allow_unsigned and host not in LOOPBACK:
        raise UserError(
            f"--allow-unsigned is refused on --host {host}: anyone who can reach it could "
            "forge an unsubscribe",
            hint="set each provider's secret instead: " + ", ".join(variables.values()),
        )
    if not secrets and not allow_unsigned:
        raise UserError(
            "no provider has a webhook secret set: every delivery would be refused",
            hint="set one or more of " + ", ".join(variables.values())
            + " (see `activations webhooks serve --help`)",
        )
    warehouse = os.environ.get("ACTIVATIONS_WAREHOUSE") or str(duckdb_path())
    shown = (
        "PostgreSQL (ACTIVATIONS_WAREHOUSE)"
        if os.environ.get("ACTIVATIONS_WAREHOUSE")
        else warehouse
    )
    typer.echo(f"webhook receiver on http://{host}:{port}/hooks/<provider>, landing in {shown}")
    for name, variable in variables.items():
        if name in secrets:
            state = f"verified ({variable})"
        elif allow_unsigned:
            state = f"UNVERIFIED: anyone on this machine can post ({variable} is not set)"
        else:
            state = f"refused until {variable} is set"
        typer.echo(f"  {name}: {state}")
    if allow_unsigned and len(secrets) < len(variables):
        typer.echo(
            "warning: --allow-unsigned takes unverified deliveries; use it for local tests only",
            err=True,
        )
    # no access log: a delivery URL carries secrets (Mailchimp's ?secret=, ?token=)
    uvicorn.run(
        create_app(
            warehouse,
            secrets=secrets,
            token=token,
            allow_unsigned=allow_unsigned,
            max_body_bytes=max_body_bytes,
        ),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(consent_app, name="consent")
    app.add_typer(webhooks_app, name="webhooks")
