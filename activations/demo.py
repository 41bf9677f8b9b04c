"""``activations demo``: the whole product on one machine, end to end.

Generate a demo-sized shop, build the dbt project, start the ESP sandbox in
the background (it keeps running so the marketer page can be opened), sync
every declared audience to it, rebuild the metric marts with the sync history,
render the dashboard, and say where to look.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from activations import clock
from activations.errors import UserError
from activations.paths import PROJECT_ROOT, duckdb_path
from activations.sandbox.env import declaration_env, targets
from activations.sandbox.webhook_sink import SinkServer
from activations.sync import engine
from activations.sync.specs import SyncSpec, load_syncs
from activations.warehouse import dbt
from activations.warehouse.connections import connect_duckdb
from activations.warehouse.counts import warehouse_counts

console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)

# where the demo keeps its files: the project root, or ACTIVATIONS_DEMO_DIR (tests)
DEMO_DIR = Path(os.environ.get("ACTIVATIONS_DEMO_DIR", PROJECT_ROOT)).resolve()
SANDBOX_DIR = DEMO_DIR / ".sandbox"
PID_FILE = SANDBOX_DIR / "server.pid"
DASHBOARD = DEMO_DIR / "out" / "dashboard.html"
SINK_LOG = DEMO_DIR / "out" / "webhook_received.jsonl"  # what the signed webhook delivered

@dataclass(frozen=True)
class Sandbox:
    base_url: str
    pid: int | None  # None when an already running sandbox was reused

    def env(self, specs: list[SyncSpec]) -> dict[str, str]:
        """Point each ESP declaration at this sandbox, through the variables it names."""
        return declaration_env(specs, targets(self.base_url))


def webhook_env(specs: list[SyncSpec], url: str, secret: str) -> dict[str, str]:
    """Point each webhook declaration at the local receiver, through the variables it names."""
    return declaration_env(specs, {"webhook": (url, secret)})


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/_sandbox/state", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_sandbox(port: int) -> Sandbox:
    """Start ``activations sandbox serve`` detached (or reuse the one already on ``port``)."""
    base_url = f"http://127.0.0.1:{port}"
    if _answers(base_url):
        return Sandbox(base_url, None)
    SANDBOX_DIR.mkdir(parents=True, exist_ok=True)
    log = open(SANDBOX_DIR / "server.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [sys.executable, "-m", "activations.cli", "sandbox", "serve", "--port", str(port),
         "--state-dir", str(SANDBOX_DIR)],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
        cwd=PROJECT_ROOT,
    )
    deadline = time.monotonic() + 30
    while not _answers(base_url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise UserError(
                f"the ESP sandbox did not start on port {port}",
                hint=f"see {SANDBOX_DIR / 'server.log'}; pick another port with --port",
            )
        time.sleep(0.2)
    PID_FILE.write_text(str(process.pid))
    return Sandbox(base_url, process.pid)


def stop_sandbox() -> bool:
    """Stop the sandbox the demo started; False when none was running."""
    if not PID_FILE.exists():
        return False
    pid = int(PID_FILE.read_text().strip() or 0)
    PID_FILE.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def run_syncs(specs: list[SyncSpec], env: Mapping[str, str], warehouse: Path) -> Table:
    table = Table(title="syncs to the ESP sandbox", header_style="bold")
    for column in ("sync", "provider", "mode", "planned", "skipped", "sent", "confirmed",
                   "rejected", "removed", "status"):
        table.add_column(column, justify="left" if column in ("sync", "provider", "mode",
                                                              "status") else "right")
    con = connect_duckdb(warehouse)
    try:
        for spec in specs:
            with console.status(f"syncing {spec.name} …"):
                report = engine.run(spec, con, env=env)
            status = report.status if not report.error else f"{report.status}: {report.error}"
            numbers = (report.planned, report.skipped, report.sent, report.confirmed,
                       report.rejected, report.removed)
            table.add_row(spec.name, spec.provider, spec.mode, *(f"{n:,}" for n in numbers),
                          status)
    finally:
        con.close()
    return table


def channel_table(warehouse: Path, audience: str = "cart_abandoners") -> Table | None:
    """The channel decision of an SMS fallback audience: how many rows go by
    email, by SMS or by neither, and why (var channel_rule)."""
    con = connect_duckdb(warehouse, read_only=True)
    try:
        columns = {r[0] for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'audiences' and table_name = ?", [audience]).fetchall()}
        if "channel" not in columns:
            return None
        found = con.execute(
            f"select coalesce(channel, 'none'), channel_reason, count(*) "
            f"from audiences.{audience} group by all order by 1, 3 desc").fetchall()
    finally:
        con.close()
    table = Table(title=f"{audience}: one channel per person (dbt var channel_rule)",
                  header_style="bold")
    for column in ("channel", "reason", "people"):
        table.add_column(column, justify="right" if column == "people" else "left")
    for channel, reason, n in found:
        table.add_row(channel, reason, f"{n:,}")
    return table


def coupon_table(specs: list[SyncSpec], warehouse: Path) -> Table | None:
    """The per-person codes the syncs with ``coupons:`` gave out (a few of each)."""
    from activations.coupons.ledger import samples, status
    from activations.warehouse.db import Db

    campaigns = {s.coupons.campaign: s for s in specs if s.coupons is not None}
    if not campaigns:
        return None
    table = Table(title="per-person coupon codes (activations.coupon_assignments)",
                  header_style="bold")
    for column in ("campaign", "sync", "given", "person", "code", "value", "expires"):
        table.add_column(column)
    con = connect_duckdb(warehouse, read_only=True)
    try:
        db = Db(con)
        given = {r["campaign"]: r["assigned"] for r in status(db)}
        for campaign, spec in campaigns.items():
            for i, (person, code, value, kind, expires) in enumerate(samples(db, campaign)):
                unit = "%" if kind == "percent" else ""
                table.add_row(campaign if i == 0 else "", spec.name if i == 0 else "",
                              f"{given.get(campaign, 0):,}" if i == 0 else "", person, code,
                              f"{value}{unit}" if value is not None else "",
                              f"{expires:%Y-%m-%d}" if expires else "")
    finally:
        con.close()
    return table


def demo_command(
    customers: Annotated[int, typer.Option(min=100, help="customers to generate")] = 5000,
    days: Annotated[int, typer.Option(min=7, help="days of history")] = 90,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same shop)")] = 42,
    port: Annotated[int, typer.Option(help="port of the ESP sandbox")] = 8765,
    end: Annotated[
        str | None,
        typer.Option(help="end of the shop's history and the builds' as_of, ISO (UTC). "
                     "Default: now, truncated to the hour"),
    ] = None,
) -> None:
    """Generate a shop, build it, sync every audience to the ESP sandbox, render the dashboard."""
    from activations.collect.client import send_sample
    from activations.collect.server import collector_in_thread
    from activations.dashboards.render import render_dashboard
    from activations.generator import generate
    from activations.generator.timeline import resolve_end

    warehouse = duckdb_path()
    # one clock for the demo: the shop ends here and both builds are as of it
    shop_end = resolve_end(clock.parse_as_of(end, "--end") if end else None)
    dbt_vars = clock.with_as_of({"as_of": shop_end})
    console.rule("[bold]1/5 generate a shop")
    counts = generate(warehouse, customers=customers, days=days, seed=seed, end=shop_end)
    console.print(", ".join(f"{table} {n:,}" for table, n in counts.items()))
    # live traffic too: the site's page views through the event collector (Segment API)
    with collector_in_thread(str(warehouse)) as collector:
        sent = send_sample(collector.url, collector.write_key, calls=200, seed=seed)
    console.print(
        f"event collector: {sent.acknowledged:,} page views sent as Segment calls "
        "(POST /v1/batch) landed in raw.events"
    )

    console.rule("[bold]2/5 build the warehouse (dbt build: models, tests, unit tests)")
    with console.status("dbt build …"):
        result = dbt.build(vars=dbt_vars, quiet=True)
    console.print(
        f"dbt build passed as of {dbt_vars['as_of']} UTC: {sum(result.by_status().values())} nodes"
    )

    console.rule("[bold]3/5 sync every audience to the ESP sandbox")
    sandbox = start_sandbox(port)
    specs = load_syncs()
    env = {**os.environ, **sandbox.env(specs)}
    with contextlib.ExitStack() as stack:
        # webhooks whose URL variable is unset go to a local receiver
        local = [s for s in specs if s.provider == "webhook" and s.credentials.base_url_env
                 and not env.get(s.credentials.base_url_env)]
        if local:
            secret = secrets.token_hex(16)
            SINK_LOG.parent.mkdir(parents=True, exist_ok=True)
            SINK_LOG.unlink(missing_ok=True)  # the receiver starts it again, empty
            sink = stack.enter_context(SinkServer(secret, SINK_LOG))
            env.update(webhook_env(local, sink.url, secret))
        console.print(run_syncs(specs, env, warehouse))
    channels = channel_table(warehouse)
    if channels is not None:
        console.print(channels)
    coupons = coupon_table(specs, warehouse)
    if coupons is not None:
        console.print(coupons)

    console.rule("[bold]4/5 measure (metric marts with the sync history, dashboard)")
    with console.status("dbt build of the metric marts …"):
        # the coupon ledger the syncs just started is read by a staging view
        # the coupon ledger the syncs just started and the SMS syncs' sends are read by
        # staging views that find the engine's tables only once a sync ran
        # a shop that ends now is measured as of after the syncs (minutes later, no
        # orders in between), so the SMS the fallback just sent count as reached; a
        # shop that ended in the past (--end) keeps its as_of, and what the syncs
        # send today falls after it
        # (the next whole second: as_of is kept to the second, the sends are not)
        after_syncs = clock.utc_now().replace(microsecond=0) + timedelta(seconds=1)
        measured = dbt_vars if end else clock.with_as_of({"as_of": after_syncs})
        dbt.build(select=["stg_activations__coupon_assignments", "stg_activations__sms_sends",
                          "path:models/marts/metrics"],
                  vars=measured, quiet=True)
    page = render_dashboard(warehouse, DASHBOARD)

    console.rule("[bold]5/5 what is where")
    table = Table(header_style="bold")
    for column in ("schema", "table", "rows", "sendable"):
        table.add_column(column, justify="right" if column in ("rows", "sendable") else "left")
    for count in warehouse_counts(warehouse):
        if count.schema in ("core", "audiences") or count.table in ("events", "orders",
                                                                    "customers"):
            table.add_row(count.schema, count.table,
                          "missing" if count.rows is None else f"{count.rows:,}",
                          "" if count.sendable is None else f"{count.sendable:,}")
    console.print(table)
    console.print(f"""
[bold]Look here next[/]
  dashboard (opens offline):   {page}
  ESP sandbox, as a marketer:  {sandbox.base_url}/
                               (runs in the background; stop it with `make sandbox-stop`)
  warehouse (DuckDB):          {warehouse}
  signed webhook deliveries:   {SINK_LOG}
  sync history:                activations syncs · activations runs <sync> · activations plan <sync>
  Dagster UI with the graph:   make dev   → http://localhost:3000
""")


def sandbox_stop_command() -> None:
    """Stop the background ESP sandbox that `activations demo` started."""
    console.print("sandbox stopped" if stop_sandbox() else "no demo sandbox was running")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
    app.command("sandbox-stop", hidden=True)(sandbox_stop_command)
