"""Seeded fault injection per provider: latency, 5xx, dropped connections,
429 storms, slow jobs and failing jobs.

Every request to a provider draws the same number of random values from that
provider's own ``random.Random(seed)``, so the same seed and the same request
sequence always give the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

Action = Literal["pass", "drop", "error", "storm"]


class Faults(BaseModel):
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    status: int = Field(default=503, ge=500, le=599)
    drop_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    rate_limit_storm: int = Field(default=0, ge=0)  # the next N requests get the 429
    slow_jobs: int = Field(default=0, ge=0)  # extra polls / steps per job state
    failing_jobs: int = Field(default=0, ge=0)  # the next N async jobs end failed, no effects
    seed: int = 0


@dataclass(frozen=True)
class Verdict:
    action: Action
    latency_s: float
    status: int = 503


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Faults] = {}
        self._rngs: dict[str, random.Random] = {}
        self._storm_left: dict[str, int] = {}
        self._failures_left: dict[str, int] = {}

    def configure(self, provider: str, faults: Faults) -> None:
        with self._lock:
            self._faults[provider] = faults
            self._rngs[provider] = random.Random(faults.seed)
            self._storm_left[provider] = faults.rate_limit_storm
            self._failures_left[provider] = faults.failing_jobs

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rngs.clear()
            self._storm_left.clear()
            self._failures_left.clear()

    def get(self, provider: str) -> Faults:
        with self._lock:
            return self._faults.get(provider, Faults())

    def job_fails(self, provider: str) -> bool:
        """Whether the async job being created now is one of the ``failing_jobs``."""
        with self._lock:
            if self._failures_left.get(provider, 0) > 0:
                self._failures_left[provider] -= 1
                return True
            return False

    def decide(self, provider: str) -> Verdict:
        with self._lock:
            faults = self._faults.get(provider)
            if faults is None:
                return Verdict("pass", 0.0)
            rng = self._rngs[provider]
            drop_draw, error_draw = rng.random(), rng.random()
            latency = faults.latency_ms / 1000.0
            if self._storm_left.get(provider, 0) > 0:
                self._storm_left[provider] -= 1
                return Verdict("storm", latency)
            if drop_draw < faults.drop_rate:
                return Verdict("drop", latency)
            if error_draw < faults.error_rate:
                return Verdict("error", latency, faults.status)
            return Verdict("pass", latency)
