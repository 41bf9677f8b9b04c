"""Send batches with bounded concurrency and hand each batch's outcomes back
in the caller's thread as soon as it is done, so the caller can commit batch
by batch (the warehouse connection never crosses threads).

A request that fails for good (``PermanentError``, or ``RetriesExhausted``)
stops the dispatch: nothing new is sent, batches already in flight finish and
are handed back, then the error is raised. Records a provider returned no
outcome for are handed back as ``missing``: never confirmed, never forgotten.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from activations.contract.records import Outcome, Record
from activations.sync.delivery.batching import Batch
from activations.sync.delivery.pacing import Sleep, TokenBucket
from activations.sync.delivery.retries import DEFAULT_POLICY, RetryPolicy, call_with_retries

Send = Callable[[Sequence[Record]], list[Outcome]]


@dataclass
class BatchResult:
    batch: Batch
    outcomes: list[Outcome]  # one per record of the batch that the provider answered for
    missing: list[Record] = field(default_factory=list)  # records with no outcome
    seconds: float = 0.0


def oversize_outcomes(batch: Batch, limit: int | None) -> list[Outcome]:
    return [
        Outcome(
            key=r.key,
            status="rejected",
            reason=f"record is {batch.bytes} bytes encoded, over the provider limit"
            + (f" of {limit} bytes" if limit else ""),
            retryable=False,
        )
        for r in batch.records
    ]


def _settle(batch: Batch, outcomes: list[Outcome], seconds: float) -> BatchResult:
    wanted = {r.key for r in batch.records}
    seen: dict[str, Outcome] = {}
    for outcome in outcomes:
        if outcome.key in wanted and outcome.key not in seen:
            seen[outcome.key] = outcome
    missing = [r for r in batch.records if r.key not in seen]
    return BatchResult(batch=batch, outcomes=list(seen.values()), missing=missing, seconds=seconds)


def dispatch(
    batches: Iterable[Batch],
    send: Send,
    on_done: Callable[[BatchResult], None],
    *,
    concurrency: int = 1,
    policy: RetryPolicy = DEFAULT_POLICY,
    limiter: TokenBucket | None = None,
    max_record_bytes: int | None = None,
    sleep: Sleep = time.sleep,
    unsettled: Callable[[], set[Future[Any]]] | None = None,
    stop: Callable[[], bool] | None = None,
    commit_lag: int = 0,
) -> None:
    """Send every batch with ``send`` (retried per ``policy``, paced by
    ``limiter``), at most ``concurrency`` at once; ``on_done`` is called in
    this thread once per batch, in completion order. ``unsettled`` gives the
    work ``on_done`` started that is not finished (commits on another thread):
    it counts against ``concurrency`` beyond ``commit_lag`` of them, so requests
    in flight plus batches not yet committed never exceed ``concurrency +
    commit_lag`` (0: the commits keep pace with the requests; more lets a group
    commit take several batches at once). Once ``stop()`` is true no new batch
    is sent; the ones in flight finish and are handed back."""

    def one(batch: Batch) -> BatchResult:
        started = time.perf_counter()
        outcomes = call_with_retries(
            lambda: send(batch.records), policy=policy, limiter=limiter, sleep=sleep
        )
        return _settle(batch, outcomes, time.perf_counter() - started)

    error: BaseException | None = None
    inflight: set[Future[BatchResult]] = set()
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="deliver") as pool:

        def drain(block_until: int) -> None:
            nonlocal error, inflight
            while True:
                settling = unsettled() if unsettled is not None else set()
                over = max(0, len(settling) - commit_lag)
                if len(inflight) + over <= block_until or not (inflight or over):
                    return
                done, _ = wait(inflight | settling, return_when=FIRST_COMPLETED)
                for future in done & inflight:
                    inflight.discard(future)
                    exc = future.exception()
                    if exc is not None:
                        error = error or exc
                    else:
                        on_done(future.result())

        # the next batch is cut (read, encoded) while the full set of requests is
        # in flight; then it waits for a free slot
        for batch in batches:
            if error is not None or (stop is not None and stop()):
                break
            if batch.oversize:
                rejected = oversize_outcomes(batch, max_record_bytes)
                on_done(BatchResult(batch=batch, outcomes=rejected))
                continue
            drain(max(1, concurrency) - 1)
            if error is not None or (stop is not None and stop()):
                break
            inflight.add(pool.submit(one, batch))
        drain(0)
    if error is not None:
        raise error
