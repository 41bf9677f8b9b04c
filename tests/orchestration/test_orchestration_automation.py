"""Schedules, sensors and automation conditions, evaluated with Dagster's
test helpers; the alert sensor posts to a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from dataset_paths import fixture

from orchestration.defs.alerts.sensors import alert_on_run_failure
from orchestration.defs.ingest.assets import ORDER_KEYS, ingest_raw
from orchestration.defs.ingest.sensors import demo_ingest_schedule, drop_folder_sensor
from orchestration.lib.resources import AlertWebhookResource, WarehouseResource

CDNOW_SAMPLE = fixture("cdnow/CDNOW_sample.txt")  # its first 400 lines, in the repository


# ------------------------------------------------------------------ ingest


def test_demo_schedule_regenerates_the_shop_each_hour() -> None:
    tick = datetime(2026, 6, 30, 14, 0, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    request = demo_ingest_schedule(context)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == "demo-20260630T1400"
    assert request.run_config == {"ops": {"ingest_raw": {"config": {"mode": "demo"}}}}
    assert demo_ingest_schedule.cron_schedule == "0 * * * *"
    assert demo_ingest_schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_drop_folder_sensor_imports_each_new_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop = tmp_path / "drop"
    monkeypatch.setenv("ACTIVATIONS_DROP_DIR", str(drop))
    assert isinstance(drop_folder_sensor(dg.build_sensor_context()), dg.SkipReason)

    (drop / "cdnow").mkdir(parents=True)
    file = drop / "cdnow" / "sample.txt"
    shutil.copyfile(CDNOW_SAMPLE, file)
    (drop / "cdnow" / "notes.md").write_text("not an order file")
    first = drop_folder_sensor(dg.build_sensor_context())
    assert isinstance(first, dg.SensorResult)
    [request] = first.run_requests
    assert request.asset_selection == ORDER_KEYS
    config = request.run_config["ops"]["ingest_raw"]["config"]
    assert config == {"mode": "file", "file": str(file), "format": "cdnow"}

    again = drop_folder_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert isinstance(again, dg.SkipReason)

    # the run the sensor asks for lands the file in raw, keyed as the dbt sources
    warehouse = tmp_path / "warehouse.duckdb"
    result = dg.materialize(
        [ingest_raw],
        selection=ORDER_KEYS,
        run_config=request.run_config,
        resources={"warehouse": WarehouseResource(target=str(warehouse))},
    )
    assert result.success
    landed = {e.asset_key for e in result.get_asset_materialization_events()}
    assert landed == set(ORDER_KEYS)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        orders = con.execute("select count(*) from raw.orders").fetchone()[0]
    finally:
        con.close()
    # a CDNOW order is one customer-day (its lines are that day's items)
    days = {(line.split()[0], line.split()[2]) for line in CDNOW_SAMPLE.read_text().splitlines()}
    assert orders == len(days)


# ------------------------------------------------------------------ alerts


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("content-length", 0))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A Slack-like incoming webhook on a free loopback port."""
    handler = type("Receiver", (_Receiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/alerts", handler.received
    finally:
        server.shutdown()
        server.server_close()


@dg.op
def _fail() -> None:
    raise dg.Failure(description="sync 'dormant_customers_mailchimp' failed: list unreachable")


@dg.job(name="nightly_sync")
def _failing_job() -> None:
    _fail()


def _failure_context(resources: dict[str, Any]) -> dg.RunFailureSensorContext:
    instance = dg.DagsterInstance.ephemeral()
    result = _failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    return dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=failure,
        resources=resources,
    ).for_run_failure()


def test_run_failure_posts_a_slack_message(receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    url, received = receiver
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    context = _failure_context({"alert_webhook": AlertWebhookResource()})
    alert_on_run_failure(context)
    [payload] = received
    assert payload["job"] == "nightly_sync"
    assert "Dagster run failed: *nightly_sync*" in payload["text"]
    assert payload["run_url"].endswith(f"/runs/{context.dagster_run.run_id}")
    assert payload["run_id"] == context.dagster_run.run_id


def test_no_webhook_no_alert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    context = _failure_context({"alert_webhook": AlertWebhookResource()})
    skipped = alert_on_run_failure(context)
    assert isinstance(skipped, dg.SkipReason)
    assert "ALERT_WEBHOOK_URL is not set" in str(skipped.skip_message)


def test_a_refusing_webhook_fails_without_printing_its_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret_url = "http://127.0.0.1:9/services/T000/B000/secret-token"  # port 9: closed
    monkeypatch.setenv("ALERT_WEBHOOK_URL", secret_url)
    context = _failure_context({"alert_webhook": AlertWebhookResource(timeout_s=2.0)})
    with pytest.raises(dg.Failure) as failure:
        alert_on_run_failure(context)
    assert "secret-token" not in str(failure.value.description)
    assert "ALERT_WEBHOOK_URL" in str(failure.value.description)


# ------------------------------------------------------------------ automation


def _requested(defs: dg.Definitions, result: Any) -> set[dg.AssetKey]:
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return {key for key in keys if result.get_num_requested(key) > 0}


def test_cadences_request_the_right_assets(defs: dg.Definitions) -> None:
    """At 05:00 the hourly audiences, what they read and their syncs refresh;
    daily audiences and metrics wait for 06:00."""
    instance = dg.DagsterInstance.ephemeral()
    first = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, evaluation_time=datetime(2026, 6, 30, 4, 30, tzinfo=UTC)
    )
    for key in _requested(defs, first):  # everything was missing: pretend it ran
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))

    def tick(hour: int, minute: int, cursor: Any) -> Any:
        return dg.evaluate_automation_conditions(
            defs=defs,
            instance=instance,
            cursor=cursor,
            evaluation_time=datetime(2026, 6, 30, hour, minute, tzinfo=UTC),
        )

    quiet = tick(4, 45, first.cursor)
    assert quiet.total_requested == 0

    five = tick(5, 1, quiet.cursor)
    requested = _requested(defs, five)
    hourly = {"cart_abandoners", "browse_abandoners", "pending_payment"}
    assert {k.path[1] for k in requested if k.path[0] == "audiences"} == hourly
    assert dg.AssetKey(["core", "customers"]) in requested
    assert dg.AssetKey(["sync_plan", "cart_abandoners_klaviyo"]) in requested
    assert dg.AssetKey(["sync", "cart_abandoners_klaviyo"]) in requested
    assert not {k for k in requested if k.path[0] in ("metrics", "shop", "app", "esp")}
    assert dg.AssetKey(["sync", "dormant_customers_mailchimp"]) not in requested

    for key in requested:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
    half_past = tick(5, 30, five.cursor)  # sees those runs end
    six = _requested(defs, tick(6, 1, half_past.cursor))
    audiences = {k.path[1] for k in six if k.path[0] == "audiences"}
    assert {"dormant_customers", "rfm_segments", "welcome_series", "birthday_upcoming"} <= audiences
    assert hourly <= audiences
    assert dg.AssetKey(["metrics", "program_revenue"]) in six
    assert dg.AssetKey(["sync", "dormant_customers_mailchimp"]) in six
