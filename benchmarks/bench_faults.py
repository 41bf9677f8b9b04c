"""The fault soak: the fault suite (``tests/activations/faults/harness.py``) at
scale and randomized. For each destination (Braze, Klaviyo, Mailchimp,
SendGrid, Customer.io, Infobip, Twilio, the signed webhook) one audience of ``--records``
people is synced through ``--rounds`` rounds of every fault that destination
can meet, in a random order with random strengths (latency, 5xx rates,
dropped connections, 429 storms, slow and failing jobs, rejections) and with
the sync process killed by SIGKILL or SIGTERM at a random point; every
scenario changes the audience, runs to completion and is checked (lost,
resent confirmed records, re-subscribed, early requests).

Run: ``python benchmarks/bench_faults.py [--records 10000] [--rounds 1] [--seed 7]
[--only braze,webhook]``. Exits 1 when anything was lost, resent, re-subscribed
or early.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activations.sandbox.server import serve_in_thread  # noqa: E402
from tests.activations.faults.harness import (  # noqa: E402
    DESTINATIONS,
    Chain,
    Scenario,
    Totals,
    destination,
    scenarios,
)

#: batch size per destination: the provider's own limit, or smaller so that an
#: async import still goes in several jobs and a kill lands between them
BATCH = {"braze": 75, "klaviyo": 1000, "mailchimp": 500, "sendgrid": 1000,
         "customerio": 1000, "infobip": 1000, "twilio": 1000, "webhook": 500}


def randomized(sc: Scenario, rng: random.Random) -> Scenario:
    """The same fault at a random strength and seed."""
    f = dict(sc.faults)
    if "error_rate" in f:
        f["error_rate"] = round(rng.uniform(0.05, 0.35), 2)
        f["status"] = rng.choice([500, 502, 503, 504])
    if "drop_rate" in f:
        f["drop_rate"] = round(rng.uniform(0.05, 0.25), 2)
    if "latency_ms" in f:
        f["latency_ms"] = rng.randint(5, 40)
    if "rate_limit_storm" in f:
        f["rate_limit_storm"] = rng.randint(1, 4)
    if "slow_jobs" in f:
        f["slow_jobs"] = rng.randint(1, 6)
    if "failing_jobs" in f:
        f["failing_jobs"] = rng.randint(1, 3)
    if "fail_every" in f:
        f["fail_every"] = rng.randint(2, 6)
    if "drop_every" in f:
        f["drop_every"] = rng.randint(2, 6)
    if "storm" in f:
        f["storm"] = rng.randint(1, 5)
    if "delay" in f:
        f["delay"] = round(rng.uniform(0.005, 0.05), 3)
    for key in ("seed",):
        if key in f:
            f[key] = rng.randint(0, 10_000)
    return dataclasses.replace(sc, faults=f, seed=rng.randint(0, 10_000))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default=",".join(DESTINATIONS))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    totals = Totals()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, serve_in_thread() as sandbox:
        for name in args.only.split(","):
            work = Path(tmp) / name
            work.mkdir()
            clock = time.perf_counter()
            with destination(name, sandbox, work) as dest:
                chain = Chain(dest, work, args.records, BATCH[name], kill_within=12)
                plan = [randomized(sc, rng) for _ in range(args.rounds)
                        for sc in scenarios(name)]
                first, rest = plan[0], plan[1:]
                rng.shuffle(rest)
                for sc in [first, *rest]:
                    result = chain.run(sc)
                    totals.add(result)
                    print(result.line(), flush=True)
            print(f"{name}: {len(totals.per_destination[name])} records, "
                  f"{time.perf_counter() - clock:.0f}s", flush=True)
    print(totals.line())
    print(f"in {time.perf_counter() - started:.0f}s")
    for failed in totals.failed:
        print("FAILED", failed)
    bad = totals.lost or totals.resent or totals.resubscribed or totals.early or totals.failed
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
