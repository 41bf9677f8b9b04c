"""The fault suite, small and fast: for every destination (Braze, Klaviyo,
Mailchimp, SendGrid, Customer.io, the SMS providers Infobip and Twilio, and
the signed webhook) every fault it can
inject (latency, 5xx, dropped connections, 429 storms in the provider's own
shape, slow and failing async jobs, per-record rejections) and the sync process
killed with SIGKILL and SIGTERM at a random point, each rerun to completion;
then zero lost, zero confirmed records resent, zero re-subscribed (email
ESPs; SMS consent is the warehouse's), and no
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


@pytest.mark.parametrize("name", ["braze", "webhook"])
def test_the_ledger_sees_a_confirmed_record_sent_again(
    name: str, sandbox_server: SandboxServer, tmp_path: Path
) -> None:
    """The suite's own check: a committed record written again with the content
    the destination already accepted counts as resent; new content does not."""
    from activations.contract.records import Record
    from tests.activations.faults.harness import _provider

    with destination(name, sandbox_server, tmp_path) as dest:
        chain = Chain(dest, tmp_path, 12, 5)
        assert chain.run(scenarios(name)[0]).ok
        hashes = dict(duckdb_rows(chain.wh, "select record_key, record_hash from "
                                  "activations.sync_state"))
        (k1, (e1, v1)), (k2, (e2, v2)) = sorted(chain.audience.sendable().items())[:2]
        same = Record(key=k1, email=e1, hash=hashes[k1],
                      fields={"first_name": f"N{k1[-3:]}", "version": v1})
        newer = Record(key=k2, email=e2, hash="other",
                       fields={"first_name": f"N{k2[-3:]}", "version": v2 + 1})
        prov = _provider(chain.spec, chain.env, 5)
        try:
            for record in (newer, same):
                chain.ledger.run(chain.wh, chain.spec.name,
                                 lambda r=record: prov.upsert(chain.spec.destination, [r]))
        finally:
            prov.close()
        assert chain.ledger.resent == {k1}


def duckdb_rows(path: Path, sql: str) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
