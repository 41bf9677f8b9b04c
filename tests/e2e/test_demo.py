"""`activations demo` end to end on a small shop, as `make demo` runs it:
generate, dbt build, the ESP sandbox in the background, every declared sync
(the signed webhook to a local receiver), the metric marts and the dashboard."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
import pytest

from activations.sync.specs import load_syncs

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# the shop ends here, never at the wall clock's hour: same data on every run
END = "2026-06-30T12:00"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_generates_builds_syncs_everything_and_renders_the_dashboard(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "ACTIVATIONS_DEMO_DIR": str(tmp_path),
        "PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("WEBHOOK_URL", None)
    port = _free_port()
    cli = [sys.executable, "-m", "activations.cli"]
    try:
        done = subprocess.run(
            [*cli, "demo", "--customers", "600", "--days", "30", "--port", str(port),
             "--end", END],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        assert "Look here next" in done.stdout
        assert "as of 2026-06-30 12:00:00 UTC" in done.stdout  # both builds, one as_of
        assert "event collector: 200 page views" in done.stdout

        con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
        try:
            runs = con.execute(
                "select sync_name, provider, destination, status, confirmed, rejected"
                " from activations.sync_runs"
            ).fetchall()
            # the live page views went through the event collector (Segment calls)
            collected = con.execute(
                "select count(*) from raw.events where message_id like 'sample-%'"
                " and event = 'Page Viewed'"
            ).fetchone()[0]
            codes = [c for (c,) in con.execute(
                "select code from activations.coupon_assignments where campaign = 'cart-24h'"
            ).fetchall()]  # fmt: skip
            # the SMS fallback (syncs/sms.yml, provider infobip from branch sms-connectors):
            # who each sync of the cart reminder confirmed, and the channel the build decided
            confirmed_by = {
                sync: {k for (k,) in con.execute(
                    "select record_key from activations.sync_state where sync_name = ?", [sync]
                ).fetchall()}
                for sync in ("cart_abandoners_klaviyo", "cart_abandoners_sms")
            }  # fmt: skip
            decided = dict(con.execute(
                "select person_id, channel from audiences.cart_abandoners"
            ).fetchall())  # fmt: skip
        finally:
            con.close()
        assert collected == 200
        # every declared sync ran once, including the signed webhook, and succeeded
        assert sorted(r[0] for r in runs) == sorted(s.name for s in load_syncs())
        assert {r[3] for r in runs} == {"succeeded"}, runs
        assert sum(r[4] for r in runs) > 0

        # the signed webhook's receiver holds exactly what the sync confirmed
        webhook = next(r for r in runs if r[1] == "webhook")
        # (the receiver's log exists, empty when nothing was delivered: how many
        # pending payments are sendable depends on the generated shop, not the clock)
        log = tmp_path / "out" / "webhook_received.jsonl"
        received = [json.loads(line) for line in log.read_text().splitlines() if line]
        assert len(received) == webhook[4]

        # the marketer's page shows every ESP destination that received people
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30).text
        for _, provider, destination, _, confirmed, _ in runs:
            if provider in ("braze", "klaviyo", "mailchimp", "sendgrid", "customerio") and (
                confirmed and provider != "customerio"  # events have no list
            ):
                assert destination in page, (provider, destination)

        # cart abandoners at the 24 h stage got their own code, shown by the demo and
        # carried to the Klaviyo list as a profile property
        assert codes and "per-person coupon codes" in done.stdout
        assert any(code in done.stdout for code in codes)
        assert any(code in page for code in codes)

        # the dashboard is one self-contained page drawn on the server
        html = (tmp_path / "out" / "dashboard.html").read_text()
        assert "<svg" in html and "<script src" not in html and "<link " not in html

        # one SMS fallback audience synced: its SMS went to the people decided sms, the
        # email list holds only people decided email, nobody got both; the demo prints the
        # channel decision and the dashboard shows the channel split
        sms = next(r for r in runs if r[0] == "cart_abandoners_sms")
        assert sms[1] == "infobip" and sms[3] == "succeeded"
        assert confirmed_by["cart_abandoners_sms"], "the fallback reached someone by SMS"
        assert not confirmed_by["cart_abandoners_sms"] & confirmed_by["cart_abandoners_klaviyo"]
        assert {decided[k] for k in confirmed_by["cart_abandoners_sms"]} == {"sms"}
        assert {decided.get(k) for k in confirmed_by["cart_abandoners_klaviyo"]} <= {"email"}
        assert "one channel per person" in done.stdout
        assert 'id="channel-table"' in html and 'data-key="cart_abandoners-sms"' in html
    finally:
        subprocess.run([*cli, "sandbox-stop"], cwd=tmp_path, env=env, capture_output=True)
