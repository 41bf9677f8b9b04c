"""What the fault suite reads from the sandbox: accepted writes counted per record
and content, the waits each provider announced on a 429 and any request that came
before them, and async jobs that fail as a whole (the ``failing_jobs`` fault)."""

from __future__ import annotations

import httpx
from sandbox_helpers import klaviyo_job, poll

from activations.sandbox.limits import PacingWatch
from activations.sandbox.server import SandboxServer


def track(clients: dict[str, httpx.Client], *objects: dict) -> httpx.Response:
    return clients["braze"].post("/users/track", json={"attributes": list(objects)})


def test_writes_are_counted_per_record_and_content(
    sandbox: SandboxServer, clients: dict[str, httpx.Client]
) -> None:
    ann = {"external_id": "u1", "email": "ann@example.com", "tier": "gold"}
    assert track(clients, ann).status_code == 201
    assert track(clients, ann, {**ann, "external_id": "u2", "email": "bo@example.com"}).is_success
    assert track(clients, {**ann, "tier": "silver"}).is_success
    # refused (invalid email): not applied, so not counted
    assert track(clients, {"external_id": "u3", "email": "not-an-email"}).json()["errors"]
    counts = {(c["record"], c["count"]) for c in sandbox.write_counts("braze")}
    assert counts == {("u1", 2), ("u2", 1), ("u1", 1)}  # gold twice, silver once
    writes = sandbox.writes("braze")
    assert [w["record"] for w in writes] == ["u1", "u1", "u2", "u1"]
    assert writes[0]["digest"] == writes[1]["digest"] != writes[3]["digest"]
    assert [w["record"] for w in sandbox.writes("braze", since=writes[2]["seq"])] == ["u1"]
    sandbox.reset()
    assert sandbox.writes("braze") == []


def test_an_async_import_counts_its_writes_when_it_completes(
    sandbox: SandboxServer, clients: dict[str, httpx.Client]
) -> None:
    job = klaviyo_job(clients["klaviyo"], ["a@example.com", "b@example.com"])
    assert sandbox.writes("klaviyo") == []
    while poll(clients["klaviyo"], job)["status"] != "complete":
        pass
    assert sorted(w["record"] for w in sandbox.writes("klaviyo")) == [
        "a@example.com", "b@example.com"]


def test_failing_jobs_end_failed_with_no_effect_then_jobs_work_again(
    sandbox: SandboxServer, clients: dict[str, httpx.Client]
) -> None:
    sandbox.set_faults("klaviyo", failing_jobs=1)
    sandbox.set_faults("sendgrid", failing_jobs=1)
    failed = klaviyo_job(clients["klaviyo"], ["a@example.com"])
    statuses = [poll(clients["klaviyo"], failed)["status"] for _ in range(3)]
    assert statuses[-1] == "cancelled"
    good = klaviyo_job(clients["klaviyo"], ["a@example.com"])
    while poll(clients["klaviyo"], good)["status"] != "complete":
        pass
    assert [w["record"] for w in sandbox.writes("klaviyo")] == ["a@example.com"]

    sendgrid = clients["sendgrid"]
    body = {"contacts": [{"email": "c@example.com", "external_id": "u_c"}]}
    jobs = [sendgrid.put("/v3/marketing/contacts", json=body).json()["job_id"] for _ in range(2)]
    final = []
    for job in jobs:
        answer = sendgrid.get(f"/v3/marketing/contacts/imports/{job}").json()
        while answer["status"] == "pending":
            answer = sendgrid.get(f"/v3/marketing/contacts/imports/{job}").json()
        final.append((answer["status"], answer["results"]["errored_count"]))
    assert final == [("failed", 1), ("completed", 0)]
    assert [w["record"] for w in sandbox.writes("sendgrid")] == ["u_c"]


def test_pacing_watch_counts_requests_before_the_announced_time() -> None:
    watch = PacingWatch(grace=0.1)
    assert watch.announced("klaviyo", "k", 100.0, {"Retry-After": "2"}) == 102.0
    assert watch.announced("braze", "k", 100.0, {"X-RateLimit-Reset": "1700000003"}) == (
        1700000003.0)
    assert watch.announced("mailchimp", "k", 100.0, {}) is None  # says nothing: no wait
    watch.arrived("klaviyo", "k", 100.05)  # already on its way: not counted
    watch.arrived("klaviyo", "k", 101.0)  # early
    watch.arrived("klaviyo", "other-key", 101.0)  # another key was not told to wait
    watch.arrived("klaviyo", "k", 102.0)  # on time
    watch.arrived("mailchimp", "k", 100.5)
    report = watch.report()
    assert (report["klaviyo"]["announced"], report["klaviyo"]["early"]) == (1, 1)
    assert report["klaviyo"]["early_requests"][0]["not_before"] == 102.0
    assert report["braze"] == {"announced": 1, "early": 0, "early_requests": []}
    assert "mailchimp" not in report


def test_the_gate_records_a_429s_wait_and_an_early_request(
    sandbox: SandboxServer, clients: dict[str, httpx.Client]
) -> None:
    sandbox.set_faults("klaviyo", rate_limit_storm=1)
    throttled = clients["klaviyo"].get("/api/lists")
    assert throttled.status_code == 429 and throttled.headers["retry-after"]
    watch = sandbox.app.sandbox.pacing_watch
    watch.grace = 0.0  # the next request is sent at once: before the announced wait
    try:
        assert clients["klaviyo"].get("/api/lists").status_code == 200
    finally:
        watch.grace = 0.1
    report = sandbox.pacing()["klaviyo"]
    assert (report["announced"], report["early"]) == (1, 1)
    assert report["early_requests"][0]["path"] == "/klaviyo/api/lists"
    sandbox.reset()
    assert sandbox.pacing() == {}
