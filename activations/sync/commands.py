"""``activations syncs | plan SYNC | run SYNC [--dry-run] [--force] | runs SYNC``.

Exit codes (raised as ``SystemExit``: the shared ``main`` runs typer with
``standalone_mode=False``, which would swallow ``typer.Exit``) of ``run``:
0 done (or dry run), 2 a user error (bad declaration,
missing audience or secret), 3 stopped by a guard (rerun with ``--force``
after checking), 4 delivery failed (destination unreachable, key refused, too
many rejects), 5 another run of the sync holds the lock, 6 interrupted by
SIGTERM or Ctrl-C (what was confirmed is committed, the lock released; run it
again to finish; ``activations.sync.interrupt``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from activations.errors import UserError
from activations.sync import engine, source
from activations.sync.interrupt import stop_on_signals
from activations.sync.plan import SyncPlan, drop
from activations.sync.specs import get_sync, load_syncs
from activations.sync.state import last_runs, runs
from activations.warehouse.connections import WarehouseMissing, connect, is_postgres
from activations.warehouse.db import Db

SyncsOpt = Annotated[
    Path | None,
    typer.Option("--syncs", help="declarations file or folder (default: syncs/)"),
]
WarehouseOpt = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        help="DuckDB file or PostgreSQL URL (default: ACTIVATIONS_WAREHOUSE, else DUCKDB_PATH)",
    ),
]

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _open(warehouse: str | None, *, read_only: bool) -> Db:
    if warehouse is not None and not is_postgres(warehouse):
        return Db(connect(Path(warehouse), read_only=read_only))
    return Db(connect(warehouse, read_only=read_only))


def _print_plan(p: SyncPlan) -> None:
    spec = p.spec
    console.print(
        f"[bold]{spec.name}[/]: {spec.audience_relation} → {spec.provider} "
        f"{spec.destination!r} (mode {spec.mode})"
    )
    table = Table(show_header=True, header_style="bold")
    for col in (
        "audience",
        "sendable",
        "added",
        "changed",
        "removed",
        "unchanged",
        "skipped",
        "invalid",
        "gave up",
        "members",
    ):
        table.add_column(col, justify="right")
    table.add_row(
        *(
            str(v)
            for v in (
                p.audience_rows,
                p.sendable,
                p.added,
                p.changed,
                p.removed,
                p.unchanged,
                p.skipped,
                p.invalid,
                p.gave_up,
                p.members,
            )
        )
    )
    console.print(table)
    for reason, n in p.skipped_reasons.items():
        console.print(f"  skipped {n}: {reason}")
    for action, rows in p.samples.items():
        console.print(f"  sample {action}:")
        for row in rows:
            console.print(f"    {row}")
    for other in p.previous:
        console.print(
            f"  [yellow]note:[/] the state of this sync was written for {other.describe()} "
            f"({other.records} records); it now sends to {spec.provider} "
            f"{spec.destination!r}, so the plan starts fresh (a run retires the old state)"
        )
    if spec.coupons is not None:
        pool = (
            "generated"
            if p.coupons_available is None
            else f"{p.coupons_available} unassigned in the pool"
        )
        console.print(
            f"  coupons: campaign {spec.coupons.campaign!r}: {p.coupons_needed} people would get "
            f"their own code ({pool}); a dry run or a plan gives out none"
        )
    for g in p.guards:
        mark = "[green]ok[/]" if g.passed else "[red]BLOCKED[/]"
        console.print(f"  guard {g.name}: {mark} {g.message}")
    console.print(f"  planned in {p.seconds:.2f}s")


def _print_report(r: engine.RunReport) -> None:
    color = {"succeeded": "green", "dry_run": "cyan", "blocked": "yellow",
             "interrupted": "yellow"}.get(r.status, "red")
    for note in r.notes:
        console.print(f"  [yellow]note:[/] {note}")
    if r.status == "blocked":
        p = r.plan
        would = (
            f" (the plan would add {p.added}, change {p.changed}, remove {p.removed})"
            if p is not None
            else ""
        )
        console.print(f"[{color}]blocked[/] {r.sync}: nothing sent{would}")
        console.print(f"  [red]{r.error}[/]")
        if r.forceable:
            console.print("  check the audience, then rerun with --force to override the guard")
        else:
            console.print("  fix what the guard names, then rerun (--force does not override it)")
        return
    console.print(
        f"[{color}]{r.status}[/] {r.sync}: sent {r.sent}, confirmed {r.confirmed}, "
        f"rejected {r.rejected}, unconfirmed {r.unconfirmed}, removed {r.removed}, "
        f"skipped {r.skipped}, invalid {r.invalid}, gave up {r.gave_up} "
        f"in {r.duration_s:.2f}s ({r.requests} requests)"
    )
    if r.job_ids:
        console.print(f"  jobs: {', '.join(r.job_ids)}")
    if r.coupons_assigned:
        console.print(f"  coupon codes given out: {r.coupons_assigned}")
    if r.error:
        console.print(f"  [red]{r.error}[/]")
    if r.status == "interrupted":
        console.print("  run it again to send the rest")


def syncs(syncs: SyncsOpt = None, warehouse: WarehouseOpt = None) -> None:
    """List the declared syncs with their last run."""
    specs = load_syncs(syncs)
    problem: UserError | None = None
    last: dict[str, Any] = {}
    try:
        last = last_runs(_open(warehouse, read_only=True))
    except WarehouseMissing:  # no warehouse yet: no sync ever ran
        pass
    except UserError as exc:  # locked, unreadable: the history is unknown, not empty
        problem = exc
    table = Table(header_style="bold")
    for col in (
        "sync",
        "audience",
        "provider",
        "destination",
        "mode",
        "schedule",
        "last run",
        "status",
        "confirmed",
    ):
        table.add_column(col)
    for spec in specs:
        run = last.get(spec.name)
        table.add_row(
            spec.name,
            spec.audience,
            spec.provider,
            spec.destination,
            spec.mode,
            spec.schedule or "",
            f"{run['started_at']:%Y-%m-%d %H:%M}" if run else "unknown" if problem else "never",
            run["status"] if run else "",
            str(run["confirmed"]) if run else "",
        )
    console.print(table)
    if problem is not None:
        raise problem


def plan(
    sync: Annotated[str, typer.Argument(help="sync name")],
    syncs: SyncsOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Show what a run would send, with sample records (changes nothing)."""
    spec = get_sync(sync, syncs)
    db = _open(warehouse, read_only=not source.from_spark())
    source.prepare(spec, db)
    p = engine.plan(spec, db)
    try:
        _print_plan(p)
    finally:
        drop(db, p)
    if p.blocked:
        sys.exit(3)


def run(
    sync: Annotated[str, typer.Argument(help="sync name")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="plan only; change nothing")] = False,
    force: Annotated[bool, typer.Option("--force", help="override the removal guards")] = False,
    syncs: SyncsOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Run one sync: plan, guard, deliver, commit what the destination confirmed."""
    spec = get_sync(sync, syncs)
    # audiences from Spark are copied into the state file first: never read-only
    db = _open(warehouse, read_only=dry_run and not source.from_spark())
    source.prepare(spec, db)
    if dry_run:
        report = engine.run(spec, db, dry_run=True)
        assert report.plan is not None
        _print_plan(report.plan)
        _print_report(report)
        sys.exit(report.exit_code)
    with stop_on_signals() as stop, Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(f"sync {spec.name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        report = engine.run(spec, db, force=force, progress=progress, stop=stop)
    _print_report(report)
    sys.exit(report.exit_code)


def history(
    sync: Annotated[str, typer.Argument(help="sync name")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="runs to show (at least 1)")] = 20,
    syncs: SyncsOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """The run history of one sync, newest first."""
    spec = get_sync(sync, syncs)
    rows = runs(_open(warehouse, read_only=True), spec.name, limit)
    table = Table(header_style="bold")
    for col in (
        "started",
        "status",
        "planned",
        "sent",
        "confirmed",
        "rejected",
        "removed",
        "skipped",
        "seconds",
        "error",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
            r["status"],
            str(r["planned"]),
            str(r["sent"]),
            str(r["confirmed"]),
            str(r["rejected"]),
            str(r["removed"]),
            str(r["skipped"]),
            f"{r['duration_s'] or 0:.2f}",
            (r["error"] or "")[:60],
        )
    if not rows:
        console.print(f"no runs of {spec.name} yet")
    else:
        console.print(table)


def register(app: typer.Typer) -> None:
    app.command("syncs")(syncs)
    app.command("plan")(plan)
    app.command("run")(run)
    app.command("runs")(history)
