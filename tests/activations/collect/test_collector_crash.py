"""The collector killed with SIGKILL in the middle of a burst: every call it
acknowledged is in the warehouse, exactly once, after clients resend what was
not acknowledged (and, as retries do, some of what was)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import httpx
import pytest

ACTIVATIONS = Path(sys.executable).parent / "activations"
KEY = "wk_crash_test"
THREADS, REQUESTS, PER_REQUEST = 4, 60, 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(warehouse: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DUCKDB_PATH": str(warehouse), "ACTIVATIONS_WRITE_KEY": KEY}
    env.pop("ACTIVATIONS_WAREHOUSE", None)
    process = subprocess.Popen(
        [str(ACTIVATIONS), "collect", "serve", "--port", str(port), "--batch-ms", "20"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate(timeout=10)
            pytest.fail(f"collector did not start: {err.decode()[-2000:]}")
        time.sleep(0.1)


def _calls(thread: int, request: int) -> list[dict]:
    return [
        {
            "type": "track" if k % 5 else "identify",
            "messageId": f"crash-{thread}-{request}-{k}",
            "anonymousId": f"anon-{thread}",
            "userId": f"cus_{thread}",
            "event": "Product Viewed",
            "properties": {"k": k},
        }
        for k in range(PER_REQUEST)
    ]


def _send(port: int, bodies: list[list[dict]], acked: list[str], stop: threading.Event) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=(KEY, ""), timeout=10) as http:
        for calls in bodies:
            if stop.is_set():
                return
            try:
                answer = http.post("/v1/batch", json={"batch": calls})
            except httpx.TransportError:
                continue  # killed: not acknowledged
            if answer.status_code == 200:
                acked.extend(c["messageId"] for c in calls)


@pytest.mark.slow
def test_sigkill_mid_burst_loses_nothing_acknowledged_and_stores_retries_once(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "crash.duckdb"
    bodies = {t: [_calls(t, r) for r in range(REQUESTS)] for t in range(THREADS)}
    port = _free_port()
    collector = _serve(warehouse, port)
    acked: dict[int, list[str]] = {t: [] for t in range(THREADS)}
    stop = threading.Event()
    threads = [
        threading.Thread(target=_send, args=(port, bodies[t], acked[t], stop), daemon=True)
        for t in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    total = THREADS * REQUESTS * PER_REQUEST
    deadline = time.monotonic() + 120
    while sum(map(len, acked.values())) < total // 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    collector.send_signal(signal.SIGKILL)  # mid-burst: requests are in flight
    collector.wait(timeout=30)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    acknowledged = {m for part in acked.values() for m in part}
    assert 0 < len(acknowledged) < total, "the kill did not land mid-burst"

    # restart; clients resend everything not acknowledged, plus retries of some that were
    port = _free_port()
    collector = _serve(warehouse, port)
    try:
        rng = random.Random(7)
        resend: list[list[dict]] = []
        for t in range(THREADS):
            for calls in bodies[t]:
                if calls[0]["messageId"] not in acknowledged or rng.random() < 0.3:
                    resend.append(calls)
        again: list[str] = []
        _send(port, resend, again, threading.Event())
        assert len(again) == len(resend) * PER_REQUEST
    finally:
        collector.send_signal(signal.SIGTERM)  # graceful: releases the file
        collector.wait(timeout=30)

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        landed = dict(
            con.execute(
                "select message_id, count(*) from ("
                " select message_id from raw.events union all select message_id from raw.identifies"
                ") group by message_id"
            ).fetchall()
        )
    finally:
        con.close()
    assert acknowledged <= set(landed)  # nothing acknowledged was lost
    assert set(landed.values()) == {1}  # and nothing is stored twice
    assert len(landed) == total  # every call, once the clients resent


def test_serve_without_a_write_key_says_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ACTIVATIONS_WRITE_KEY"}
    env["DUCKDB_PATH"] = str(tmp_path / "none.duckdb")
    done = subprocess.run(
        [str(ACTIVATIONS), "collect", "serve", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "write key" in done.stderr and "--write-key" in done.stderr
    assert "Traceback" not in done.stderr
