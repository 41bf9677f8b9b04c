"""State lives in SQLite in the state directory and survives a restart."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sandbox_helpers import AUTH

from activations.errors import UserError
from activations.sandbox.server import serve_in_thread
from activations.sandbox.settings import SandboxSettings
from activations.sandbox.store import Store


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with serve_in_thread(state_path=state) as first:
        klaviyo = httpx.Client(base_url=first.url("klaviyo"), headers=AUTH["klaviyo"])
        job = klaviyo.post("/api/profile-bulk-import-jobs", json={"data": {
            "type": "profile-bulk-import-job", "attributes": {"profiles": {"data": [
                {"type": "profile", "attributes": {"email": "a@example.com"}}]}},
            "relationships": {"lists": {"data": [{"type": "list", "id": "L1st01"}]}}}}).json()
        job_id = job["data"]["id"]
        assert klaviyo.get(f"/api/profile-bulk-import-jobs/{job_id}").json()[
            "data"]["attributes"]["status"] == "processing"
        httpx.post(first.url("mailchimp") + "/lists/shop1", headers=AUTH["mailchimp"], json={
            "members": [{"email_address": "b@example.com", "status_if_new": "subscribed"}]})
        first.person("mailchimp", "unsubscribe", "b@example.com", "shop1")
        first.set_faults("braze", error_rate=1.0, status=500)
        first.configure(webhook_url="http://127.0.0.1:9/hooks")
        before = first.state()
        logged = len(first.requests())
        klaviyo.close()

    with serve_in_thread(state_path=state) as second:
        assert second.state()["providers"]["mailchimp"] == before["providers"]["mailchimp"]
        assert len(second.requests()) >= logged
        klaviyo = httpx.Client(base_url=second.url("klaviyo"), headers=AUTH["klaviyo"])
        # the open job carries on where it was
        assert klaviyo.get(f"/api/profile-bulk-import-jobs/{job_id}").json()[
            "data"]["attributes"]["status"] == "complete"
        members = klaviyo.get("/api/lists/L1st01/profiles").json()["data"]
        assert [m["attributes"]["email"] for m in members] == ["a@example.com"]
        # faults and config were kept too
        assert httpx.get(second.url("braze") + "/email/unsubscribes",
                         headers=AUTH["braze"]).status_code == 500
        assert second.configure()["webhook_url"] == "http://127.0.0.1:9/hooks"
        klaviyo.close()


def test_in_memory_state_when_no_directory() -> None:
    with serve_in_thread(settings=SandboxSettings()) as server:
        assert server.app.sandbox.settings.state_dir is None
        assert server.state()["providers"]["klaviyo"]["lists"] == []


def test_unusable_state_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "sandbox.sqlite3").write_text("this is not a database" * 100)
    with pytest.raises(UserError) as caught:
        Store(tmp_path)
    assert "sandbox.sqlite3" in str(caught.value)
    assert "--state-dir" in str(caught.value)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot create the sandbox state directory"):
        Store(blocker / "sub")
