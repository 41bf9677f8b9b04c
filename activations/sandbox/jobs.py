"""Asynchronous job state machines with an injectable clock.

A job moves one state per status poll (mode ``poll``, the default), or one
state per ``job_step_seconds`` of the sandbox clock (mode ``clock``; tests
move the clock with ``POST /_sandbox/clock/advance``). The ``slow_jobs``
fault multiplies the polls or the time each state needs. A job's effects
(profiles written, list membership) are applied once, when it reaches its
final state, by the completion handler its provider registered. The
``failing_jobs`` fault makes a job end in its provider's failed state
(``FAILED_STATE``) with no effect at all.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from activations.sandbox.store import Store

Job = dict[str, Any]
Completer = Callable[[Job], None]  # sets job["status"] and counts, applies effects


#: the final state of a job that failed as a whole, per provider (Klaviyo cancels)
FAILED_STATE = {"klaviyo": "cancelled", "sendgrid": "failed"}


class Clock(Protocol):
    def now(self) -> float: ...


class SandboxClock:
    """Wall time plus an offset that tests advance; the offset is persisted."""

    def __init__(self, store: Store, base: Callable[[], float] = time.time):
        self._store = store
        self._base = base

    def now(self) -> float:
        return self._base() + float(self._store.get_kv("clock_offset", 0.0))

    def advance(self, seconds: float) -> float:
        self._store.set_kv("clock_offset", float(self._store.get_kv("clock_offset", 0.0)) + seconds)
        return self.now()


@dataclass(frozen=True)
class Pacing:
    mode: Literal["poll", "clock"] = "poll"
    step_seconds: float = 1.0
    slow: int = 0  # extra polls (or step lengths) each state needs


class JobRunner:
    def __init__(self, store: Store, clock: Clock, pacing: Callable[[str], Pacing],
                 fails: Callable[[str], bool] = lambda provider: False):
        self._store = store
        self._clock = clock
        self._pacing = pacing
        self._fails = fails
        self._completers: dict[tuple[str, str], Completer] = {}

    def on_complete(self, provider: str, kind: str, completer: Completer) -> None:
        self._completers[(provider, kind)] = completer

    def create(self, provider: str, kind: str, states: list[str], payload: dict[str, Any],
               *, job_id: str | None = None) -> Job:
        now = self._clock.now()
        job: Job = {
            "id": job_id or uuid.uuid4().hex, "provider": provider, "kind": kind,
            "states": states, "step": 0, "polls": 0, "status": states[0], "done": False,
            "created_at": now, "started_at": None, "finished_at": None,
            "payload": payload, "result": {},
        }
        if len(states) > 1 and self._fails(provider):
            job["fail"] = True
        if len(states) == 1:  # applied at once; the id is only for the client's records
            job.update(done=True, started_at=now, finished_at=now)
        self._store.save_job(provider, job["id"], kind, job, now)
        return job

    def get(self, provider: str, job_id: str) -> Job | None:
        return self._store.get_job(provider, job_id)

    def poll(self, provider: str, job_id: str) -> Job | None:
        """A status read by the client: counts as a poll, may advance the job."""
        job = self._store.get_job(provider, job_id)
        if job is None:
            return None
        if not job["done"]:
            job["polls"] += 1
            self._advance(job)
        return job

    def catch_up(self) -> None:
        """In clock mode, move every open job to where the clock says it is."""
        for job in self._store.jobs():
            if not job["done"] and self._pacing(job["provider"]).mode == "clock":
                self._advance(job)

    def settle(self) -> int:
        """Finish every open job now (the demo and end-to-end tests use this)."""
        done = 0
        for job in self._store.jobs():
            if not job["done"]:
                self._move_to(job, len(job["states"]) - 1)
                done += 1
        return done

    def _advance(self, job: Job) -> None:
        pacing = self._pacing(job["provider"])
        per_state = 1 + max(0, pacing.slow)
        if pacing.mode == "poll":
            due = job["polls"] // per_state
        else:
            elapsed = self._clock.now() - job["created_at"]
            due = int(elapsed // (pacing.step_seconds * per_state))
        self._move_to(job, min(due, len(job["states"]) - 1))

    def _move_to(self, job: Job, step: int) -> None:
        now = self._clock.now()
        if step > job["step"]:
            job["step"] = step
            job["status"] = job["states"][step]
            if job["started_at"] is None:
                job["started_at"] = now
            if step == len(job["states"]) - 1:
                job["finished_at"] = now
                job["done"] = True
                if job.get("fail"):  # failed as a whole: nothing applied, nothing counted
                    job["status"] = FAILED_STATE.get(job["provider"], "failed")
                    job["result"] = {"errored_count": job["payload"].get("requested", 0)}
                    self._store.save_job(job["provider"], job["id"], job["kind"], job,
                                         job["created_at"])
                    return
                completer = self._completers.get((job["provider"], job["kind"]))
                if completer is not None:
                    with self._store.tx():  # the job's effects land together
                        completer(job)
                        self._store.save_job(job["provider"], job["id"], job["kind"], job,
                                             job["created_at"])
                    return
        self._store.save_job(job["provider"], job["id"], job["kind"], job, job["created_at"])
