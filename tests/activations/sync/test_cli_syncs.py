"""The command line as a user runs it (real subprocesses): SIGKILL in the
middle of a run then a rerun, exit codes, clear errors, and the API key never
appearing in any output or in the warehouse."""

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
from activations.sync.engine import COMMIT_LAG
from tests.activations.sync.conftest import SECRET, make_audience, people, write_spec

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
      options: {max_records: 20, concurrency: 2}
    retries: {attempts: 3, initial: 0.05, max_wait: 0.2}
"""


def cli(args: list[str], env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "activations.cli", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def run_cli(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = cli(args, env)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out + err


@pytest.fixture()
def setup(tmp_path: Path):
    wh = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(wh))
    make_audience(con, people(600))
    con.close()
    syncs = write_spec(tmp_path, SPEC)
    return wh, syncs


def test_sigkill_mid_run_then_rerun_loses_nothing_and_resends_nothing_confirmed(
    setup, tmp_path: Path
) -> None:
    wh, syncs = setup
    faults = Faults(delay=0.03)
    with SinkServer(SECRET, tmp_path / "sink.jsonl", faults) as sink:
        env = {"HOOK_SECRET": SECRET, "HOOK_URL": sink.url}
        args = ["run", "carts_hook", "--syncs", str(syncs), "--warehouse", str(wh)]
        proc = cli(args, env)
        deadline = time.monotonic() + 60
        while len(sink.received()) < 200:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        # let the sink finish requests the dead process had already sent
        settled = -1
        while settled != len(sink.received()):
            settled = len(sink.received())
            time.sleep(0.3)
        received_before = settled

        con = duckdb.connect(str(wh), read_only=True)
        confirmed_before = {
            k for (k,) in con.execute("select record_key from activations.sync_state").fetchall()
        }
        lock = con.execute("select count(*) from activations.sync_locks").fetchall()
        con.close()
        assert 0 < len(confirmed_before) < 600
        assert lock == [(1,)]  # the killed run still holds it: the rerun must take it over

        faults.delay = 0
        code, output = run_cli(args, env)
        assert code == 0, output
        got = sink.received()
        after_kill = [r["key"] for r in got[received_before:]]

    everyone = {f"p{i:05d}" for i in range(600)}
    assert {r["key"] for r in got} == everyone  # zero lost
    assert not set(after_kill) & confirmed_before  # zero confirmed records sent twice
    # only the batches in flight or confirmed but not committed yet at the kill
    # (their write-ahead rows were still there) may arrive twice: at most the
    # concurrency (2) plus the commit lag, in batches of 20
    keys = [r["key"] for r in got]
    twice = {k for k in keys if keys.count(k) > 1}
    assert not twice & confirmed_before and len(twice) <= (2 + COMMIT_LAG) * 20
    con = duckdb.connect(str(wh), read_only=True)
    state = {k for (k,) in con.execute("select record_key from activations.sync_state").fetchall()}
    statuses = [
        s
        for (s,) in con.execute(
            "select status from activations.sync_runs order by started_at"
        ).fetchall()
    ]
    con.close()
    assert state == everyone
    assert statuses == ["crashed", "succeeded"]


def test_secret_never_in_output_or_warehouse(setup, tmp_path: Path) -> None:
    wh, syncs = setup
    with SinkServer(SECRET, tmp_path / "sink.jsonl") as sink:
        env = {"HOOK_SECRET": SECRET, "HOOK_URL": sink.url}
        # a refused key first: an error, still no key (the wrong key contains the right one)
        code, refused = run_cli(
            ["run", "carts_hook", "--syncs", str(syncs), "--warehouse", str(wh)],
            {"HOOK_SECRET": SECRET + "-wrong", "HOOK_URL": sink.url},
        )
        assert code == 4 and "401" in refused
        outputs = [refused]
        for args in (
            ["plan", "carts_hook", "--syncs", str(syncs), "--warehouse", str(wh)],
            ["run", "carts_hook", "--dry-run", "--syncs", str(syncs), "--warehouse", str(wh)],
            ["run", "carts_hook", "--syncs", str(syncs), "--warehouse", str(wh)],
            ["runs", "carts_hook", "--syncs", str(syncs), "--warehouse", str(wh)],
            ["syncs", "--syncs", str(syncs), "--warehouse", str(wh)],
        ):
            code, out = run_cli(args, env)
            assert code == 0, out
            outputs.append(out)
    assert "succeeded" in outputs[3] and "confirmed 600" in outputs[3]
    assert "added" in outputs[1] and "p00000@example.com" in outputs[1]
    assert "failed" in outputs[4] and "succeeded" in outputs[4]  # history, newest first
    assert "carts_hook" in outputs[5] and "succeeded" in outputs[5]  # list with last run
    assert all(SECRET not in o for o in outputs)
    # the warehouse file holds no trace of the key
    assert SECRET.encode() not in wh.read_bytes()
    con = duckdb.connect(str(wh), read_only=True)
    for schema, table in con.execute(
        "select table_schema, table_name from information_schema.tables"
    ).fetchall():
        rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
        assert SECRET not in repr(rows)
    con.close()


def test_exit_codes_and_clear_errors(setup, tmp_path: Path) -> None:
    wh, syncs = setup
    base = ["--syncs", str(syncs), "--warehouse", str(wh)]
    # missing secret: names the file, the line and the variable
    code, out = run_cli(["run", "carts_hook", *base], {"HOOK_URL": "http://127.0.0.1:9"})
    assert code == 2
    assert f"{syncs}:9" in out and "HOOK_SECRET is not set" in out and "Traceback" not in out
    # unreachable destination
    code, out = run_cli(
        ["run", "carts_hook", *base], {"HOOK_SECRET": "k" * 16, "HOOK_URL": "http://127.0.0.1:9"}
    )
    assert code == 4 and "connection failed" in out and "Traceback" not in out
    # unknown sync
    code, out = run_cli(["run", "nope", *base], {})
    assert code == 2 and "no sync named 'nope'" in out
    # missing audience table
    bad = write_spec(tmp_path, SPEC.replace("audience: carts", "audience: lost_carts"), "bad.yml")
    code, out = run_cli(["plan", "carts_hook", "--syncs", str(bad), "--warehouse", str(wh)], {})
    assert code == 2 and f"{bad}:3" in out and "audiences.lost_carts does not exist" in out
