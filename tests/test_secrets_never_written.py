"""Secrets: every command that takes a key runs with sentinel keys, then
everything the product wrote is searched for them: stdout and stderr of each
command, the warehouse file (its bytes and every text column), ``out/``, the
signed webhook's delivery log and the Dagster instance (run storage, event log,
compute logs, materialization metadata) of a sync asset materialised with
``dg.materialize``.

The commands: ``syncs``, ``plan``, ``run`` (every declaration, as the demo does,
against the ESP sandbox and the signed-webhook sink; a dry run; a run with a
wrong key, which fails), ``runs``, ``consent pull`` and ``webhooks serve`` (signed
deliveries from the sandbox, a forged and a wrongly signed one). The ESP sandbox's
own state is not searched: it plays the ESP, which holds the keys by design.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from activations.sandbox.server import serve_in_thread
from activations.sandbox.settings import PREFIXES, SandboxSettings
from activations.sandbox.signing import verification_secrets
from activations.sandbox.webhook_sink import SinkServer
from activations.sync.specs import load_syncs

pytestmark = pytest.mark.slow

SENTINEL = "SNTNL7q"  # in every secret below, and nowhere else
KEYS = {
    "braze": f"{SENTINEL}-braze-key",
    "klaviyo": f"pk_{SENTINEL}klaviyo",
    "mailchimp": f"{SENTINEL}-mailchimp-key-us6",
    "sendgrid": f"SG.{SENTINEL}-sendgrid",
    "customerio": f"site{SENTINEL}:{SENTINEL}-cio-key",
}
SMS_KEYS = {  # the SMS providers: a key each, no consent pull-back, no hooks
    "infobip": f"{SENTINEL}-infobip-key",
    "twilio": f"{SENTINEL}-twilio-write-key",
}
SIGNING_SECRET = f"{SENTINEL}-webhook-signing"  # the signed webhook destination
HOOK_SECRETS = {  # what each ESP signs its reporting webhooks with
    "braze": f"{SENTINEL}-currents-token",
    "klaviyo": f"{SENTINEL}-klaviyo-hook",
    "mailchimp": f"{SENTINEL}-mailchimp-hook",
    "sendgrid": f"{SENTINEL}-sendgrid-seed",
    "customerio": f"{SENTINEL}-cio-signing",
}
HOOK_VARIABLES = {
    "braze": "BRAZE_WEBHOOK_TOKEN",
    "klaviyo": "KLAVIYO_WEBHOOK_SECRET",
    "mailchimp": "MAILCHIMP_WEBHOOK_SECRET",
    "sendgrid": "SENDGRID_WEBHOOK_PUBLIC_KEY",  # a public key: no secret, not searched for
    "customerio": "CUSTOMERIO_WEBHOOK_SIGNING_KEY",
}
SHARED_TOKEN = f"{SENTINEL}-shared-token"
ALL_SECRETS = [
    *KEYS.values(), *SMS_KEYS.values(), SIGNING_SECRET, *HOOK_SECRETS.values(), SHARED_TOKEN
]


def _needles() -> list[bytes]:
    """The sentinel, and each secret as it could be encoded on its way out."""
    found = [SENTINEL.encode()]
    for secret in ALL_SECRETS:
        found.append(base64.b64encode(secret.encode()))
        found.append(base64.b64encode(f"anystring:{secret}".encode()))
        found.append(base64.b64encode(f"{secret}:".encode()))  # Basic, key as user (Segment)
    return found


def _leaks(label: str, data: bytes) -> list[str]:
    return [f"{label}: {needle[:24]!r}" for needle in _needles() if needle in data]


def _files_leaking(root: Path) -> list[str]:
    leaks = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        leaks += _leaks(str(path.relative_to(root.parent)), path.read_bytes())
    return leaks


def _warehouse_leaks(path: Path) -> list[str]:
    """Every text value of every table (DuckDB compresses strings: bytes are not enough)."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON') or data_type like '%[]' "
            "or data_type like 'STRUCT%' or data_type like 'MAP%'"
        ).fetchall()
        leaks = []
        for schema, table, column in columns:
            hits = conn.execute(
                f'select count(*) from "{schema}"."{table}" '
                f"where cast(\"{column}\" as varchar) like '%{SENTINEL}%'"
            ).fetchone()[0]
            if hits:
                leaks.append(f"warehouse {schema}.{table}.{column}: {hits} rows")
        return leaks
    finally:
        conn.close()


class Workspace:
    """A scratch checkout-like folder: the warehouse copy, out/, the environment."""

    def __init__(self, root: Path, warehouse: Path, env: dict[str, str]) -> None:
        self.root, self.warehouse, self.env = root, warehouse, env
        self.outputs: list[tuple[str, str, str]] = []  # (command, stdout, stderr)

    def run(self, *args: str, expect: int | None = 0, **extra: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "activations.cli", *args],
            env={**self.env, **extra}, cwd=self.root, capture_output=True, text=True,
            timeout=300,
        )
        self.outputs.append((" ".join(args), result.stdout, result.stderr))
        if expect is not None:
            assert result.returncode == expect, (args, result.stdout, result.stderr)
        return result


@pytest.fixture
def workspace(warehouse_copy, tmp_path: Path) -> Any:
    settings = SandboxSettings(keys={**KEYS, **SMS_KEYS}, webhook_secrets=dict(HOOK_SECRETS))
    root = tmp_path / "work"
    (root / "out").mkdir(parents=True)
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(warehouse_copy.path, warehouse)
    with (
        serve_in_thread(state_path=tmp_path / "sandbox", settings=settings) as sandbox,
        SinkServer(SIGNING_SECRET, root / "out" / "webhook_received.jsonl") as sink,
    ):
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
        env.update(DUCKDB_PATH=str(warehouse), NO_COLOR="1", COLUMNS="160")
        for spec in load_syncs():
            creds = spec.credentials
            if spec.provider in KEYS or spec.provider in SMS_KEYS:
                base_url = sandbox.base_url + PREFIXES[spec.provider]
                key = {**KEYS, **SMS_KEYS}[spec.provider]
            elif spec.provider == "webhook":
                base_url, key = sink.url, SIGNING_SECRET
            else:
                continue
            if creds.api_key_env:
                env[creds.api_key_env] = key
            if creds.base_url_env:
                env[creds.base_url_env] = base_url
        yield Workspace(root, warehouse, env), sandbox


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_command_writes_a_key_anywhere(workspace, tmp_path: Path, monkeypatch) -> None:
    work, sandbox = workspace
    specs = load_syncs()
    esp_syncs = [s for s in specs if s.provider in KEYS]
    assert {s.provider for s in esp_syncs} == set(KEYS), "a sync per ESP"
    assert any(s.provider in SMS_KEYS for s in specs), "an SMS sync (syncs/sms.yml)"

    # the syncs, as the demo runs them: list, plan, dry run, run each, history
    work.run("syncs")
    first = specs[0].name
    work.run("plan", first)
    work.run("run", first, "--dry-run")
    # a wrong key: the run fails, and says so without the key
    wrong = esp_syncs[0]
    failed = work.run("run", wrong.name, expect=None,
                      **{wrong.credentials.api_key_env: f"{SENTINEL}-wrong-key"})
    assert failed.returncode != 0, failed.stdout
    for spec in specs:
        work.run("run", spec.name, "--force")
    for spec in specs:
        work.run("runs", spec.name)
    work.run("syncs")

    # consent flowing back: the pull-back with the keys, and the webhook receiver
    for name in KEYS:
        sandbox.person(name, "unsubscribe", _member(sandbox, name))
    work.run("consent", "pull")
    work.run("consent", "pull", "--provider", "klaviyo", expect=None,
             KLAVIYO_API_KEY=f"{SENTINEL}-wrong-pull-key")
    _serve_webhooks(work, sandbox)

    # a sync asset materialised by Dagster, with an instance of its own
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    _materialize_one_sync(work, dagster_home, monkeypatch)

    leaks = []
    for command, stdout, stderr in work.outputs:
        leaks += _leaks(f"`activations {command}` stdout", stdout.encode())
        leaks += _leaks(f"`activations {command}` stderr", stderr.encode())
    leaks += _files_leaking(work.root)  # warehouse file and wal, out/ (files, sink log)
    leaks += _warehouse_leaks(work.warehouse)
    leaks += _files_leaking(dagster_home)
    assert leaks == []

    # the commands did their work (a search of nothing would find nothing)
    said = "\n".join(out + err for _, out, err in work.outputs)
    assert "401" in failed.stdout + failed.stderr
    assert "new consent rows" in said and "verified (KLAVIYO_WEBHOOK_SECRET)" in said
    assert (work.root / "out" / "webhook_received.jsonl").stat().st_size > 0
    assert any((work.root / "out").rglob("manifest.json")), "the file sync wrote its parts"
    assert len([p for p in dagster_home.rglob("*") if p.is_file()]) >= 2
    # and the search finds a secret where there is one
    assert _leaks("control", f"Authorization: Bearer {KEYS['braze']}".encode())
    basic = base64.b64encode(f"anystring:{KEYS['mailchimp']}".encode())
    assert _leaks("control", b"Authorization: Basic " + basic)
    planted = tmp_path / "planted.duckdb"
    conn = duckdb.connect(str(planted))
    conn.execute("create table t as select 'key=' || ? as note", [KEYS["sendgrid"]])
    conn.close()
    assert _warehouse_leaks(planted) == ["warehouse main.t.note: 1 rows"]


def _member(sandbox, name: str) -> str:
    """Someone a sync put in ``name`` (so the ESP has a person to unsubscribe)."""
    state = sandbox.state(name)["providers"][name]
    for item in state["lists"]:
        if item["members"]:
            return item["members"][0]["email"]
    return "nobody@example.com"


def _serve_webhooks(work: Workspace, sandbox) -> None:
    port = _free_port()
    secrets = {HOOK_VARIABLES[n]: v for n, v in verification_secrets(HOOK_SECRETS).items()}
    server = subprocess.Popen(
        [sys.executable, "-m", "activations.cli", "webhooks", "serve", "--port", str(port)],
        env={**work.env, **secrets, "ACTIVATIONS_WEBHOOK_TOKEN": SHARED_TOKEN},
        cwd=work.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.2)
        sandbox.configure(webhook_url=f"{url}/hooks/{{provider}}?token={SHARED_TOKEN}")
        for name in KEYS:
            answer = sandbox.person(name, "spam", _member(sandbox, name))
            assert answer["webhook"] is None or answer["webhook"]["status"] == 200, answer
        # a forged delivery, a wrong token, a wrong signature: refused, secrets unsaid
        forged = httpx.post(f"{url}/hooks/sendgrid?token={SHARED_TOKEN}", json=[])
        wrong_token = httpx.post(f"{url}/hooks/braze?token={SENTINEL}-guess", json={})
        wrong_bearer = httpx.post(
            f"{url}/hooks/braze?token={SHARED_TOKEN}", json={"events": []},
            headers={"authorization": f"Bearer {SENTINEL}-guess"},
        )
        assert {forged.status_code, wrong_token.status_code, wrong_bearer.status_code} == {401}
        answers = forged.text + wrong_token.text + wrong_bearer.text
        work.outputs.append(("webhooks serve (answers)", answers, ""))
    finally:
        server.terminate()
        stdout, stderr = server.communicate(timeout=20)
    work.outputs.append(("webhooks serve", stdout, stderr))


def _materialize_one_sync(work: Workspace, dagster_home: Path, monkeypatch) -> None:
    import dagster as dg

    from activations.sync.specs import get_sync
    from orchestration.components.audience_sync import build_sync_assets, sync_key
    from orchestration.defs.resources import WarehouseResource

    for name, value in work.env.items():
        if name.endswith(("_API_KEY", "_BASE_URL", "_SECRET", "_URL")):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.chdir(work.root)
    spec = get_sync("dormant_customers_mailchimp")
    instance = dg.DagsterInstance.get()
    try:
        result = dg.materialize(
            build_sync_assets(spec, dg.AssetKey(["audiences", spec.audience_table])),
            resources={"warehouse": WarehouseResource(target=str(work.warehouse))},
            instance=instance,
        )
        assert result.success
        assert instance.get_latest_materialization_event(sync_key(spec.name)) is not None
    finally:
        instance.dispose()
