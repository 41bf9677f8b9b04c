"""The fault suite, small and fast: for every destination (Braze, Klaviyo,
Mailchimp, SendGrid, Customer.io and the signed webhook) every fault it can
inject (latency, 5xx, dropped connections, 429 storms in the provider's own
shape, slow and failing async jobs, per-record rejections) and the sync process
killed with SIGKILL and SIGTERM at a random point, each rerun to completion;
then zero lost, zero confirmed records resent, zero re-subscribed, and no
request before an announced wait (``harness.py`` says how each is measured).
The totals are printed at the end of the session; ``make bench`` runs the
randomized soak (``benchmarks/bench_faults.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from activations.sandbox.server import SandboxServer
from tests.activations.faults.harness import DESTINATIONS, SESSION, Chain, destination, scenarios

RECORDS = 40  # the audience (each scenario changes it), sent in batches of
BATCH = 10


@pytest.mark.parametrize("name", DESTINATIONS)
def test_every_fault_loses_nothing_resends_nothing_resubscribes_nobody(
    name: str, sandbox_server: SandboxServer, tmp_path: Path
) -> None:
    results = []
    with destination(name, sandbox_server, tmp_path) as dest:
        chain = Chain(dest, tmp_path, RECORDS, BATCH)
        for scenario in scenarios(name):
            result = chain.run(scenario)
            SESSION.add(result)
            results.append(result)
    report = "\n".join(r.line() for r in results)
    assert all(r.ok for r in results), report
    assert all(r.records >= RECORDS * 0.8 for r in results), report
    kills = [r for r in results if r.scenario.kill is not None]
    assert kills and all(r.kills for r in kills), report  # each kill landed mid-run
