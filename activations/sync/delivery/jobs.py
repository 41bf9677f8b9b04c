"""Poll an asynchronous job (a bulk import, a batch operation) to its end.

Connector authors::

    job = poll_until(lambda: client.get(f"/jobs/{job_id}").json(),
                     lambda j: j["status"] in ("complete", "failed"),
                     timeout=600)

``fetch`` may raise ``TransientError``; a few transient errors in a row are
tolerated (``fetch_retries``). A job still running at ``timeout`` raises
``JobTimeout`` (a ``TransientError``): its records are not confirmed, so the
engine keeps them for the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from activations.contract.records import TransientError
from activations.sync.delivery.pacing import Clock, Sleep

T = TypeVar("T")


class JobTimeout(TransientError):
    """The job did not finish in time; nothing it held counts as confirmed."""


def poll_until(
    fetch: Callable[[], T],
    is_done: Callable[[T], bool],
    *,
    timeout: float = 600.0,
    interval: float = 1.0,
    backoff: float = 1.5,
    max_interval: float = 30.0,
    fetch_retries: int = 3,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    what: str = "job",
) -> T:
    """Call ``fetch`` until ``is_done(result)``; return that last result.
    Waits ``interval`` seconds, growing by ``backoff`` up to ``max_interval``;
    a ``TransientError.retry_after`` from ``fetch`` sets the next wait."""
    deadline = clock() + timeout
    wait = interval
    failures = 0
    while True:
        try:
            result = fetch()
            failures = 0
            if is_done(result):
                return result
            next_wait = wait
        except TransientError as exc:
            failures += 1
            if failures > fetch_retries:
                raise
            next_wait = exc.retry_after if exc.retry_after is not None else wait
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeout(f"{what} still not finished after {timeout:.0f}s")
        sleep(min(next_wait, remaining))
        wait = min(max_interval, wait * backoff)
