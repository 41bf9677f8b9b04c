"""Mailchimp /batches: an async job through five states, operations run by the
sandbox's own rules, results as a gzipped tar of JSON."""

from __future__ import annotations

import io
import json
import tarfile

import httpx

from activations.sandbox.common import md5_email
from activations.sandbox.server import SandboxServer


def test_batch_moves_through_its_states_and_returns_results(
        sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    mailchimp = clients["mailchimp"]
    mailchimp.post("/lists/shop1", json={"members": [
        {"email_address": "gone@example.com", "status": "subscribed"}]})
    sandbox.person("mailchimp", "unsubscribe", "gone@example.com", "shop1")
    operations = [
        {"method": "PUT", "path": f"/lists/shop1/members/{md5_email('ann@example.com')}",
         "operation_id": "row-1", "body": json.dumps(
             {"email_address": "ann@example.com", "status_if_new": "subscribed"})},
        {"method": "PUT", "path": f"/lists/shop1/members/{md5_email('gone@example.com')}",
         "operation_id": "row-2", "body": json.dumps(
             {"email_address": "gone@example.com", "status_if_new": "subscribed",
              "status": "subscribed"})},
    ]
    submitted = mailchimp.post("/batches", json={"operations": operations})
    assert submitted.status_code == 200
    batch = submitted.json()
    assert (batch["status"], batch["total_operations"]) == ("pending", 2)
    seen = [mailchimp.get(f"/batches/{batch['id']}").json() for _ in range(5)]
    assert [s["status"] for s in seen] == ["preprocessing", "started", "finalizing",
                                           "finished", "finished"]
    done = seen[3]
    assert (done["finished_operations"], done["errored_operations"]) == (2, 1)
    archive = httpx.get(done["response_body_url"])  # no key needed, like Mailchimp's S3 link
    assert archive.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        files = [tar.extractfile(m) for m in tar.getmembers() if m.isfile()]
        results = [row for f in files if f for row in json.loads(f.read())]
    by_id = {r["operation_id"]: r for r in results}
    assert by_id["row-1"]["status_code"] == 200
    assert json.loads(by_id["row-1"]["response"])["status"] == "subscribed"
    assert by_id["row-2"]["status_code"] == 400
    assert json.loads(by_id["row-2"]["response"])["title"] == "Member In Compliance State"
    member = mailchimp.get(f"/lists/shop1/members/{md5_email('gone@example.com')}").json()
    assert member["status"] == "unsubscribed"


def test_batch_input_errors(clients: dict[str, httpx.Client]) -> None:
    mailchimp = clients["mailchimp"]
    assert mailchimp.post("/batches", json={"operations": []}).status_code == 400
    bad_body = mailchimp.post("/batches", json={"operations": [
        {"method": "PUT", "path": "/lists/x/members/y", "body": {"not": "a string"}}]})
    assert bad_body.status_code == 400
    assert "JSON string" in bad_body.json()["detail"]
    assert mailchimp.get("/batches/nope").status_code == 404
