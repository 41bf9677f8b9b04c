"""Asynchronous jobs move through their states: per poll, per clock step, slowly
under the slow_jobs fault; effects land when the job completes."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from sandbox_helpers import klaviyo_job, poll

from activations.sandbox.jobs import JobRunner, Pacing
from activations.sandbox.server import SandboxServer
from activations.sandbox.store import Store

LIST_UUID = "6c6f9a55-64b6-4b8f-9f4c-5a1d1c6f0c0e"


def test_klaviyo_import_job_moves_one_state_per_poll(sandbox: SandboxServer,
                                                     clients: dict[str, httpx.Client]) -> None:
    klaviyo = clients["klaviyo"]
    job_id = klaviyo_job(klaviyo, ["a@example.com", "not-an-email", "b@example.com"], "L1st01")
    processing = poll(klaviyo, job_id)
    assert processing["status"] == "processing"
    assert klaviyo.get(f"/api/profile-bulk-import-jobs/{job_id}/import-errors").json()[
        "data"] == []
    assert sandbox.state("klaviyo")["providers"]["klaviyo"]["contacts"] == 0
    done = poll(klaviyo, job_id)
    assert (done["status"], done["total_count"], done["completed_count"],
            done["failed_count"]) == ("complete", 3, 2, 1)
    assert done["completed_at"] is not None
    errors = klaviyo.get(f"/api/profile-bulk-import-jobs/{job_id}/import-errors").json()["data"]
    assert [e["attributes"]["source"]["pointer"] for e in errors] == [
        "/data/attributes/profiles/data/1/attributes/email"]
    assert errors[0]["attributes"]["original_payload"]["email"] == "not-an-email"
    ids = klaviyo.get(f"/api/profile-bulk-import-jobs/{job_id}/relationships/profiles").json()
    assert len(ids["data"]) == 2
    members = klaviyo.get("/api/lists/L1st01/profiles").json()["data"]
    assert sorted(m["attributes"]["email"] for m in members) == ["a@example.com",
                                                                  "b@example.com"]
    assert poll(klaviyo, job_id)["status"] == "complete"  # stays complete


def test_slow_jobs_need_more_polls(sandbox: SandboxServer,
                                   clients: dict[str, httpx.Client]) -> None:
    sandbox.set_faults("klaviyo", slow_jobs=2)
    klaviyo = clients["klaviyo"]
    job_id = klaviyo_job(klaviyo, ["a@example.com"])
    seen = [poll(klaviyo, job_id)["status"] for _ in range(6)]
    assert seen == ["queued", "queued", "processing", "processing", "processing", "complete"]


def test_clock_mode_moves_jobs_with_the_sandbox_clock(sandbox: SandboxServer,
                                                      clients: dict[str, httpx.Client]) -> None:
    sandbox.configure(job_advance="clock", job_step_seconds=30)
    klaviyo = clients["klaviyo"]
    job_id = klaviyo_job(klaviyo, ["a@example.com"])
    assert [poll(klaviyo, job_id)["status"] for _ in range(3)] == ["queued"] * 3
    sandbox.advance_clock(30)
    assert poll(klaviyo, job_id)["status"] == "processing"
    sandbox.advance_clock(30)
    # the job completed on the clock even before anyone polled it
    assert sandbox.state("klaviyo")["providers"]["klaviyo"]["contacts"] == 1
    assert poll(klaviyo, job_id)["status"] == "complete"


def test_settle_finishes_every_open_job(sandbox: SandboxServer,
                                        clients: dict[str, httpx.Client]) -> None:
    klaviyo_job(clients["klaviyo"], ["a@example.com"], "L1st01")
    upsert = clients["sendgrid"].put("/v3/marketing/contacts", json={
        "list_ids": [LIST_UUID], "contacts": [{"email": "b@example.com"}]})
    assert upsert.status_code == 202
    assert sandbox.settle_jobs() == 2
    state = sandbox.state()["providers"]
    assert state["klaviyo"]["lists"][0]["member_count"] == 1
    assert state["sendgrid"]["lists"][0]["member_count"] == 1


def sendgrid_job(sendgrid: httpx.Client, contacts: list[dict[str, Any]]) -> dict[str, Any]:
    job_id = sendgrid.put("/v3/marketing/contacts",
                          json={"list_ids": [LIST_UUID], "contacts": contacts}).json()["job_id"]
    first = sendgrid.get(f"/v3/marketing/contacts/imports/{job_id}").json()
    assert set(first) == {"id", "status", "job_type", "results", "started_at", "finished_at"}
    return dict(first)


def test_sendgrid_job_completed_errored_failed(clients: dict[str, httpx.Client]) -> None:
    sendgrid = clients["sendgrid"]
    done = sendgrid_job(sendgrid, [{"email": "a@example.com"}, {"email": "B@Example.com"}])
    assert done["status"] == "completed"
    assert done["results"]["requested_count"] == 2 and done["results"]["created_count"] == 2
    assert "errors_url" not in done["results"]

    errored = sendgrid_job(sendgrid, [{"email": "a@example.com", "first_name": "Ann"},
                                      {"email": "nope"}])
    assert errored["status"] == "errored"
    assert errored["results"]["updated_count"] == 1
    assert errored["results"]["errored_count"] == 1
    rows = list(csv.DictReader(io.StringIO(httpx.get(errored["results"]["errors_url"]).text)))
    assert rows == [{"email": "nope", "external_id": "",
                     "error": "email 'nope' is not a valid email address"}]

    failed = sendgrid_job(sendgrid, [{"email": "x@"}, {"custom_fields": {}, "email": "y@"}])
    assert failed["status"] == "failed"
    assert failed["results"]["errored_count"] == 2


def test_sendgrid_job_is_pending_until_polled(sandbox: SandboxServer,
                                              clients: dict[str, httpx.Client]) -> None:
    sandbox.set_faults("sendgrid", slow_jobs=1)
    sendgrid = clients["sendgrid"]
    job_id = sendgrid.put("/v3/marketing/contacts",
                          json={"contacts": [{"email": "a@example.com"}]}).json()["job_id"]
    statuses = [sendgrid.get(f"/v3/marketing/contacts/imports/{job_id}").json()["status"]
                for _ in range(3)]
    assert statuses == ["pending", "completed", "completed"]
    missing = sendgrid.get("/v3/marketing/contacts/imports/no-such-job")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["message"] == "job no-such-job not found"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def now(self) -> float:
        return self.t


def test_job_runner_with_an_injected_clock() -> None:
    store = Store(None)
    clock = FakeClock()
    mode = {"pacing": Pacing(mode="clock", step_seconds=5.0)}
    runner = JobRunner(store, clock, lambda provider: mode["pacing"])
    completed: list[str] = []

    def complete(job: dict[str, Any]) -> None:
        completed.append(job["id"])
        job["status"] = "done-with-errors"

    runner.on_complete("p", "k", complete)
    job = runner.create("p", "k", ["queued", "processing", "done"], {"n": 1}, job_id="j1")
    assert job["status"] == "queued"
    clock.t += 4.9
    runner.catch_up()
    assert runner.get("p", "j1")["status"] == "queued"  # type: ignore[index]
    clock.t += 0.1
    runner.catch_up()
    assert runner.get("p", "j1")["status"] == "processing"  # type: ignore[index]
    clock.t += 100
    runner.catch_up()
    final = runner.get("p", "j1")
    assert final is not None and final["done"] and final["status"] == "done-with-errors"
    assert final["started_at"] == 1_005.0 and final["finished_at"] == 1_105.0
    runner.catch_up()
    assert completed == ["j1"]  # effects applied exactly once
