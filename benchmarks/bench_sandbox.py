"""How fast the ESP sandbox takes in a demo-sized audience, with no connector in
the way: N records per provider in each provider's largest batch, over real HTTP
on 127.0.0.1, async jobs polled to the end; then the marketer page and the state
endpoint at that size. Run: ``python benchmarks/bench_sandbox.py [N]`` (default 5,000).

Measured 2026-11-23 on the shared 2-core dev machine (load average about 8), N=5,000:
braze 67 requests 0.93 s; klaviyo 3 requests 1.48 s (spec validation of the 5,000
profiles is most of it); mailchimp 10 requests 1.23 s; sendgrid 2 requests 0.66 s;
customerio 10 requests 1.21 s; marketer page 0.88 s and GET /_sandbox/state 0.83 s
with 25,000 contacts in the sandbox. The sandbox never throttles at its default limits.
"""

from __future__ import annotations

import base64
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from activations.sandbox.server import SandboxServer, serve_in_thread


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


AUTH = {
    "braze": {"Authorization": "Bearer sandbox-braze-key"},
    "klaviyo": {"Authorization": "Klaviyo-API-Key pk_sandbox_klaviyo", "revision": "2026-07-15"},
    "mailchimp": {"Authorization": basic("any", "sandbox-mailchimp-key-us6")},
    "sendgrid": {"Authorization": "Bearer SG.sandbox-sendgrid-key"},
    "customerio": {"Authorization": basic("sandbox-site", "sandbox-cio-key")},
}


def chunks(n: int, size: int) -> list[range]:
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


def braze(c: httpx.Client, n: int) -> int:
    for part in chunks(n, 75):
        c.post("/users/track", json={"attributes": [
            {"external_id": f"u_{i}", "email": f"p{i}@example.com", "ltv": i,
             "audiences": {"add": ["demo"]}} for i in part]}).raise_for_status()
    return len(chunks(n, 75))


def klaviyo(c: httpx.Client, n: int) -> int:
    requests = 0
    for part in chunks(n, 10_000):
        job = c.post("/api/profile-bulk-import-jobs", json={"data": {
            "type": "profile-bulk-import-job", "attributes": {"profiles": {"data": [
                {"type": "profile", "attributes": {"email": f"p{i}@example.com",
                                                   "external_id": f"u_{i}",
                                                   "properties": {"ltv": i}}} for i in part]}},
            "relationships": {"lists": {"data": [{"type": "list", "id": "Demo01"}]}}}})
        job.raise_for_status()
        requests += 1
        while c.get(f"/api/profile-bulk-import-jobs/{job.json()['data']['id']}").json()[
                "data"]["attributes"]["status"] != "complete":
            requests += 1
        requests += 1
    return requests


def mailchimp(c: httpx.Client, n: int) -> int:
    for part in chunks(n, 500):
        c.post("/lists/demo", json={"update_existing": True, "members": [
            {"email_address": f"p{i}@example.com", "status_if_new": "subscribed",
             "merge_fields": {"FNAME": f"P{i}"}, "tags": ["demo"]} for i in part]}
               ).raise_for_status()
    return len(chunks(n, 500))


def sendgrid(c: httpx.Client, n: int) -> int:
    requests = 0
    for part in chunks(n, 30_000):
        job = c.put("/v3/marketing/contacts", json={
            "list_ids": ["6c6f9a55-64b6-4b8f-9f4c-5a1d1c6f0c0e"],
            "contacts": [{"email": f"p{i}@example.com", "external_id": f"u_{i}"} for i in part]})
        job.raise_for_status()
        requests += 1
        while c.get(f"/v3/marketing/contacts/imports/{job.json()['job_id']}").json()[
                "status"] == "pending":
            requests += 1
        requests += 1
    return requests


def customerio(c: httpx.Client, n: int) -> int:
    requests = 0
    for part in chunks(n, 1_000):  # about 110 KB a batch, far under 500 KB
        c.post("/api/v2/batch", json={"batch": [
            {"type": "person", "identifiers": {"id": f"u_{i}"}, "action": "identify",
             "attributes": {"email": f"p{i}@example.com", "ltv": i}} for i in part]}
               ).raise_for_status()
        c.post("/api/v1/segments/7/add_customers",
               json={"ids": [f"u_{i}" for i in part]}).raise_for_status()
        requests += 2
    return requests


RUNS: dict[str, Callable[[httpx.Client, int], int]] = {
    "braze": braze, "klaviyo": klaviyo, "mailchimp": mailchimp, "sendgrid": sendgrid,
    "customerio": customerio}


def timed(label: str, action: Callable[[], object]) -> None:
    started = time.perf_counter()
    action()
    print(f"{label:<28} {time.perf_counter() - started:6.2f} s")


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(state_path=Path(tmp)) as server:
        print(f"{n:,} records per provider, sandbox at {server.base_url}")
        print(f"{'provider':<12}{'requests':>9}{'seconds':>9}{'records/s':>11}")
        for name, run in RUNS.items():
            with httpx.Client(base_url=server.url(name), headers=AUTH[name],
                              timeout=120) as client:
                started = time.perf_counter()
                requests = run(client, n)
                elapsed = time.perf_counter() - started
            print(f"{name:<12}{requests:>9}{elapsed:>9.2f}{n / elapsed:>11,.0f}")
        measure_reads(server)


def measure_reads(server: SandboxServer) -> None:
    timed("marketer page (50 shown)", lambda: httpx.get(server.base_url + "/", timeout=120)
          .raise_for_status())
    timed("GET /_sandbox/state", lambda: httpx.get(server.base_url + "/_sandbox/state",
                                                   timeout=120).raise_for_status())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000)
