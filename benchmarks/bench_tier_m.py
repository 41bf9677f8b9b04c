"""Tier M: a 1M-customer shop on one small machine, step by step, with the
wall time and peak memory (RSS) of each step.

    python benchmarks/bench_tier_m.py [--customers 1000000] [--days 90] [--warehouse PATH]
    make -C benchmarks tier-m          # on request only; not part of `make bench`

Steps, each in its own process (its peak RSS is that process's, read from
``wait4``): generate the shop; a full ``activations build --full-refresh``
(every model, data test and unit test); append one hour of events (late ones
included, ``activations/generator/append.py``); the hourly build
(``activations build --hourly``); plan the largest audience against empty
state; sync it to the local webhook sink (first sync); change 1% of its rows,
plan again; sync the change. ``--reuse`` keeps the raw data already in
``--warehouse`` (skips generating). Each line is also appended to
``benchmarks/results/tier_m/steps.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "tier_m"
END = datetime(2026, 6, 30, 12)
SECRET = "bench-secret-0123456789"
TS = "%Y-%m-%d %H:%M:%S"
STEPS = ("generate", "build_full", "append_hour", "build_hourly", "plan", "sync_first")


def step(name: str, argv: list[str], env: dict[str, str], log: Path) -> dict:
    """Run one step as a child process: wall seconds, peak RSS (MiB), CPU seconds."""
    started = time.perf_counter()
    with (RESULTS / f"{name}.log").open("w") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    load = os.getloadavg()[0]
    result = {
        "step": name,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "exit": proc.returncode,
        "load": round(load, 1),
    }
    tail = (RESULTS / f"{name}.log").read_text().strip().splitlines()[-1:]
    line = (
        f"{name:<14} {seconds:8.1f} s  peak {result['peak_rss_mib']:6,} MiB  "
        f"cpu {result['cpu_seconds']:7.1f} s  load {load:4.1f}  exit {proc.returncode}  "
        f"| {tail[0][:140] if tail else ''}"
    )
    print(line, flush=True)
    with log.open("a") as f:
        f.write(json.dumps(result) + "\n")
    if proc.returncode != 0:
        raise SystemExit(f"step {name} failed: see {RESULTS / (name + '.log')}")
    return result


# ---------------------------------------------------------------- child steps


def _largest_audience(con) -> tuple[str, int]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'audiences'"
    ).fetchall()
    # what a sync would send: sendable, and allowed by the contact policy
    sizes = {
        name: con.execute(
            f"select count(*) from audiences.{name} as a where a.is_sendable and exists ("
            "select 1 from core.contact_policy as cp "
            "where cp.person_id = a.person_id and cp.can_email_marketing)"
        ).fetchone()[0]
        for (name,) in rows
    }
    name = max(sizes, key=lambda n: sizes[n])
    return name, sizes[name]


def _spec(audience: str):
    from activations.sync.specs import SyncSpec

    return SyncSpec.model_validate(
        {
            "name": "tier_m",
            "audience": audience,
            "provider": "webhook",
            "destination": f"/hooks/{audience}",
            "mode": "upsert",
            "credentials": {
                "api_key_env": "TIER_M_SECRET",
                "base_url_env": "TIER_M_SINK",
                "options": {"max_records": 1000, "concurrency": 2},
            },
            "guards": {"max_removal_share": 1.0},
        }
    )


def child(kind: str, warehouse: str) -> None:
    from activations.sync import engine
    from activations.warehouse.connections import connect_duckdb

    con = connect_duckdb(warehouse)  # as every process of the product: memory capped
    try:
        if kind == "append":
            from activations.generator.append import append_hour

            append_hour(con, END)
            (events,) = con.execute("select count(*) from raw.events").fetchone()
            print(f"appended the hour after {END:%Y-%m-%d %H:%M}: {events:,} raw events")
            return
        audience, size = _largest_audience(con)
        (rows,) = con.execute(f"select count(*) from audiences.{audience}").fetchone()
        spec = _spec(audience)
        if kind == "change":
            con.execute(
                f"update audiences.{audience} set email = 'changed.' || email "
                "where is_sendable and hash(person_id) % 100 = 0"
            )
            kind = "plan"
        if kind == "plan":
            started = time.perf_counter()
            p = engine.plan(spec, con)
            print(
                f"plan {audience}: {rows:,} rows, {size:,} to send, {p.added:,} added, "
                f"{p.changed:,} changed in {time.perf_counter() - started:.2f}s"
            )
        else:
            env = {"TIER_M_SECRET": SECRET, "TIER_M_SINK": os.environ["TIER_M_SINK"]}
            started = time.perf_counter()
            report = engine.run(spec, con, env=env)
            print(
                f"sync {audience}: {report.status}, {report.confirmed:,} confirmed in "
                f"{report.requests:,} requests, {time.perf_counter() - started:.2f}s"
            )
            report.raise_for_status()
    finally:
        con.close()


# ---------------------------------------------------------------- main


def main() -> None:
    global RESULTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--warehouse", type=Path, default=RESULTS / "shop.duckdb")
    parser.add_argument("--reuse", action="store_true", help="keep the raw data in --warehouse")
    parser.add_argument(
        "--start-at",
        choices=STEPS,
        default=STEPS[0],
        help="skip the steps before this one (their data already in --warehouse)",
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="stop after generating (then run with --reuse)"
    )
    parser.add_argument("--results", type=Path, help="where logs are kept (default results/tier_m)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "WAREHOUSE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sys.path.insert(0, str(HERE))
    from bench_sync import sink_process

    RESULTS = args.results or RESULTS
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "steps.jsonl"
    warehouse = args.warehouse.resolve()
    env = {**os.environ, "DUCKDB_PATH": str(warehouse)}
    bin_dir = Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    activations = str(bin_dir / "activations")
    later = END + timedelta(hours=1)
    print(
        f"tier M: {args.customers:,} customers x {args.days} days into {warehouse}; "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        flush=True,
    )
    todo = STEPS[STEPS.index(args.start_at) :]
    if not args.reuse and "generate" in todo:
        for path in (warehouse, warehouse.with_suffix(".duckdb.wal")):
            path.unlink(missing_ok=True)
        step(
            "generate",
            [
                activations, "generate", "--customers", str(args.customers),
                "--days", str(args.days), "--seed", "7", "--end", END.isoformat(),
            ],
            env, log,
        )  # fmt: skip
    if args.generate_only:
        return
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    full = json.dumps({"as_of": END.strftime(TS)})
    hourly = json.dumps({"as_of": later.strftime(TS)})
    children = {
        "build_full": [activations, "build", "--full-refresh", "--vars", full],
        "append_hour": [*me, "append", str(warehouse)],
        "build_hourly": [activations, "build", "--hourly", "--vars", hourly],
        "plan": [*me, "plan", str(warehouse)],
    }
    for name, argv in children.items():
        if name in todo:
            step(name, argv, env, log)
    with sink_process(RESULTS / "sink.jsonl") as sink_url:
        sync_env = {**env, "TIER_M_SINK": sink_url}
        step("sync_first", [*me, "sync", str(warehouse)], sync_env, log)
        step("plan_1pct", [*me, "change", str(warehouse)], sync_env, log)
        step("sync_1pct", [*me, "sync", str(warehouse)], sync_env, log)
    print(f"steps in {log}", flush=True)


if __name__ == "__main__":
    main()
