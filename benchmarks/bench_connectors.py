"""How fast each ESP connector moves an audience into the local ESP sandbox.

For each provider: N records cut into batches by the provider's own ``Limits``
(``activations.sync.delivery.batching``), sent one batch after another through the
connector, against the sandbox on 127.0.0.1 (real HTTP, async jobs polled).
Prints records per second and requests per batch.

Run: ``python benchmarks/bench_connectors.py [N]`` (default 5,000).

Measured 2026-11-23 on the shared 2-core dev machine (under load from other
work), 5,000 records each, batches sent one after another (the engine adds
concurrency: Mailchimp 10, Braze 4):

| provider | batches | requests | seconds | records/s |
| --- | --- | --- | --- | --- |
| braze | 67 | 67 | 1.68 | 2,984 |
| klaviyo | 1 | 5 | 3.21 | 1,555 |
| mailchimp | 10 | 27 | 4.65 | 1,074 |
| sendgrid | 1 | 7 | 2.10 | 2,385 |
| customerio | 5 | 10 | 2.20 | 2,276 |
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time

from activations.contract.records import Record
from activations.providers import registry
from activations.providers.registry import make_provider
from activations.sandbox.env import credentials
from activations.sandbox.server import serve_in_thread
from activations.sync.delivery.batching import cut_batches

DESTINATION = {"customerio": "7"}


def records(n: int) -> list[Record]:
    return [
        Record(
            key=f"u_{i}",
            email=f"person{i}@example.com",
            fields={
                "first_name": f"Ann{i}",
                "ltv": i % 500,
                "cart_items": [{"sku": f"s{i % 40}", "qty": 1}],
            },
        )
        for i in range(n)
    ]


def main(n: int) -> None:
    batch = records(n)
    with tempfile.TemporaryDirectory() as state, serve_in_thread(state_path=state) as sandbox:
        print(f"{n} records per provider, sandbox at {sandbox.base_url}")
        print(f"{'provider':<11} {'batches':>7} {'requests':>8} {'seconds':>8} {'records/s':>10}")
        for name in ("braze", "klaviyo", "mailchimp", "sendgrid", "customerio"):
            settings = registry.settings(name, *reversed(credentials(name, sandbox.base_url)))
            options = {"poll_interval": 0.05, **({"list": "Shop"} if name == "mailchimp" else {})}
            provider = make_provider(name, dataclasses.replace(settings, options=options))
            started = time.perf_counter()
            cut = list(cut_batches(batch, provider.limits, provider.record_size))
            confirmed = 0
            for b in cut:
                outcomes = provider.upsert(DESTINATION.get(name, "bench"), b.records)
                confirmed += sum(o.status == "confirmed" for o in outcomes)
            seconds = time.perf_counter() - started
            assert confirmed == n, f"{name}: {confirmed} of {n} confirmed"
            print(
                f"{name:<11} {len(cut):>7} {provider.report.requests:>8} {seconds:>8.2f} "
                f"{n / seconds:>10,.0f}"
            )
            provider.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
