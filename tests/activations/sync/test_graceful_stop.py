"""Graceful stop: SIGTERM or Ctrl-C (SIGINT) during ``activations run`` (a real
subprocess against a slow sink) stops sending, lets the batch in flight finish,
commits every confirmed record, records the run ``interrupted``, releases the
lock and exits 6; the rerun sends exactly the rest. In process: a batch
abandoned before its request (or before a retry) is neither sent nor
committed, and leaves no write-ahead row behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from activations.sandbox.webhook_sink import Faults, SinkServer
from activations.sync.engine import EXIT_CODES, run
from activations.sync.interrupt import Stop, stop_on_signals
from tests.activations.sync.conftest import (
    SECRET,
    MemoryDestination,
    make_audience,
    people,
    webhook_spec,
    write_spec,
)

SPEC = """syncs:
  - name: carts_hook
    audience: carts
    provider: webhook
    destination: /hooks/carts
    mode: mirror
    fields: {value: cart_value, items: cart_items}
    credentials:
      api_key_env: HOOK_SECRET
      base_url_env: HOOK_URL
      options: {max_records: 5, concurrency: 1}
    retries: {attempts: 3, initial: 0.05, max_wait: 0.2}
"""
EVERYONE = {f"p{i:05d}" for i in range(60)}


def _tables(wh: Path) -> dict[str, object]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        return {
            "state": {k for (k,) in q("select record_key from activations.sync_state")},
            "runs": [tuple(r) for r in q("select status, error from activations.sync_runs")],
            "locks": q("select count(*) from activations.sync_locks")[0][0],
            "inflight": q("select count(*) from activations.sync_inflight")[0][0],
        }
    finally:
        con.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_cleanly_and_the_rerun_sends_the_rest(
    signum: signal.Signals, tmp_path: Path
) -> None:
    wh = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(wh))
    make_audience(con, people(60))
    con.close()
    syncs = write_spec(tmp_path, SPEC)
    faults = Faults(delay=0.25)  # slow enough that the stop lands mid-run
    with SinkServer(SECRET, tmp_path / "sink.jsonl", faults) as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "activations.cli", "run", "carts_hook", "--syncs",
             str(syncs), "--warehouse", str(wh)],
            env={**os.environ, "HOOK_SECRET": SECRET, "HOOK_URL": sink.url},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 120
        while len(sink.received()) < 10:  # two batches confirmed
            assert proc.poll() is None, "the run ended before it could be stopped"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(proc.pid, signum)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == EXIT_CODES["interrupted"] == 6, output
        assert "interrupted" in output and "rerun" in output and "Traceback" not in output
        received = [r["key"] for r in sink.received()]
        after = _tables(wh)
        # the batch in flight finished and was committed: what the sink holds is the state
        assert after["state"] == set(received) and 10 <= len(received) < 60
        assert len(received) == len(set(received))
        assert after["runs"][0][0] == "interrupted" and signum.name in after["runs"][0][1]
        assert after["locks"] == 0 and after["inflight"] == 0

        faults.delay = 0
        con = duckdb.connect(str(wh))
        report = run(
            webhook_spec_for(syncs), con, env={"HOOK_SECRET": SECRET, "HOOK_URL": sink.url}
        )
        con.close()
        assert report.status == "succeeded"
        again = [r["key"] for r in sink.received()]
    assert again[: len(received)] == received
    assert set(again[len(received):]) == EVERYONE - set(received)  # exactly the rest
    assert len(again) == 60


def webhook_spec_for(path: Path):
    from activations.sync.specs import parse_file

    return parse_file(path)[0]


def test_a_stop_abandons_batches_not_yet_sent_and_their_write_ahead(db, tmp_path: Path) -> None:
    make_audience(db, people(30))
    spec = webhook_spec(tmp_path)
    dest = MemoryDestination(max_records=5)
    stop = Stop()
    sent = dest._apply

    def apply_then_stop(op, batch):
        out = sent(op, batch)
        if dest.requests == 2:
            stop.request("stopped by test")
        return out

    dest._apply = apply_then_stop  # type: ignore[method-assign]
    env = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
    report = run(spec, db, provider=dest, env=env, stop=stop)
    assert report.status == "interrupted" and report.exit_code == 6
    assert (report.sent, report.confirmed) == (10, 10) and "stopped by test" in report.error
    assert db.execute("select count(*) from activations.sync_state").fetchall() == [(10,)]
    assert db.execute("select count(*) from activations.sync_inflight").fetchall() == [(0,)]
    assert db.execute("select count(*) from activations.sync_locks").fetchall() == [(0,)]
    dest._apply = sent  # type: ignore[method-assign]
    rest = run(spec, db, provider=dest, env=env)
    assert rest.status == "succeeded" and rest.sent == 20
    assert sorted(k for _, k in dest.received) == sorted(f"p{i:05d}" for i in range(30))


def test_a_retry_after_the_stop_is_abandoned_and_stays_unknown(db, tmp_path: Path) -> None:
    """A batch whose request went out and failed is not retried once stopped: its
    outcome is unknown, so its keys stay in the write-ahead for the next run."""
    make_audience(db, people(10))
    spec = webhook_spec(tmp_path)
    dest = MemoryDestination(max_records=5)
    stop = Stop()
    dest.fail_next = 1
    sent = dest._apply

    def fail_then_stop(op, batch):
        stop.request("stopped by test")
        return sent(op, batch)

    dest._apply = fail_then_stop  # type: ignore[method-assign]
    env = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
    report = run(spec, db, provider=dest, env=env, stop=stop)
    assert report.status == "interrupted" and dest.requests == 1 and report.confirmed == 0
    inflight = db.execute("select record_key from activations.sync_inflight order by 1")
    assert [k for (k,) in inflight.fetchall()] == [f"p{i:05d}" for i in range(5)]


def test_stop_on_signals_sets_the_stop_then_a_second_signal_interrupts() -> None:
    before = signal.getsignal(signal.SIGTERM)  # another test (Dagster) may have set one
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.is_set() and stop.reason == "stopped by SIGTERM"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) == before
