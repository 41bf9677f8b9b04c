"""The commands as a user runs them: `activations consent pull` and
`activations webhooks serve`, as real subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
from consent_helpers import settings_for
from typer.testing import CliRunner

from activations.cli import app
from activations.contract.records import Record
from activations.providers.registry import make_provider


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "activations.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_consent_pull_command_lands_rows_and_is_idempotent(
    sandbox, warehouse: Path, monkeypatch
) -> None:
    provider = make_provider("sendgrid", settings_for(sandbox, "sendgrid"))
    provider.upsert("newsletter", [Record(key="u_1", email="gone@example.com", fields={})])
    provider.close()
    sandbox.person("sendgrid", "unsubscribe", "gone@example.com")
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse))
    runner = CliRunner()  # in-process, the command as typed (the subprocess runs are below)

    args = ["consent", "pull", "--provider", "sendgrid", "--sandbox", sandbox.base_url]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "sendgrid:" in first.output and "1 new consent rows" in first.output
    second = runner.invoke(
        app, ["consent", "pull", "-p", "sendgrid", "--sandbox", sandbox.base_url]
    )
    assert second.exit_code == 0 and "total: 0 new consent rows" in second.output

    conn = duckdb.connect(str(warehouse), read_only=True)
    rows = conn.execute("select email, status, source from raw.consents").fetchall()
    conn.close()
    assert rows == [("gone@example.com", "unsubscribed", "esp")]


def test_consent_pull_with_a_wrong_key_is_one_clear_line(sandbox, warehouse: Path) -> None:
    env = {
        "DUCKDB_PATH": str(warehouse),
        "KLAVIYO_API_KEY": "pk_wrong_key_0123456789",
        "KLAVIYO_BASE_URL": sandbox.url("klaviyo"),
    }
    result = _run("consent", "pull", "--provider", "klaviyo", env=env)
    assert result.returncode == 2
    assert "consent pull from klaviyo failed" in result.stderr and "401" in result.stderr
    assert "pk_wrong_key_0123456789" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_webhooks_serve_command_receives_and_lands(warehouse: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen(
        [sys.executable, "-m", "activations.cli", "webhooks", "serve", "--port", str(port)],
        env={
            **os.environ,
            "DUCKDB_PATH": str(warehouse),
            "ACTIVATIONS_WEBHOOK_TOKEN": "t0ken-abc",
            "MAILCHIMP_WEBHOOK_SECRET": "mc-s3cret",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.1)
        body = (
            "type=unsubscribe&fired_at=2026-11-23+11:00:00"
            "&data[email]=Person0@example.com&data[list_id]=abc"
        )
        answer = httpx.post(
            f"http://127.0.0.1:{port}/hooks/mailchimp?token=t0ken-abc&secret=mc-s3cret",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 200 and answer.json()["consents"] == 1
    finally:
        server.terminate()
        server.wait(timeout=10)
    conn = duckdb.connect(str(warehouse), read_only=True)
    rows = conn.execute(
        "select customer_id, email, status, changed_at from raw.consents"
    ).fetchall()
    conn.close()
    assert [r[:3] for r in rows] == [("c_1", "person0@example.com", "unsubscribed")]
    assert str(rows[0][3]) == "2026-11-23 11:00:00"
