"""The simulated time window and when shoppers are active in it.

Times are int64 seconds since the Unix epoch (UTC) while simulating; the writer
turns them into timestamps. Traffic follows a weekly and a daily cycle: fewer
visits on Saturdays and Sundays, peaks at lunch and in the evening.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

HOUR = 3600
DAY = 86_400

# Monday .. Sunday: weekends visibly quieter than weekdays
WEEKDAY_WEIGHT = np.array([1.15, 1.08, 1.02, 1.0, 0.92, 0.62, 0.72])
# 00h .. 23h UTC
HOUR_WEIGHT = np.array(
    [
        0.15,
        0.08,
        0.05,
        0.04,
        0.05,
        0.12,
        0.3,
        0.55,
        0.75,
        0.85,
        0.9,
        1.0,
        1.15,
        1.05,
        0.9,
        0.85,
        0.9,
        1.0,
        1.15,
        1.35,
        1.5,
        1.4,
        1.0,
        0.5,
    ]
)


def resolve_end(end: datetime | None = None) -> datetime:
    """``end`` as naive UTC, whole seconds; by default now (UTC) truncated to the hour."""
    if end is None:
        return datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    if end.tzinfo is not None:
        end = end.astimezone(UTC).replace(tzinfo=None)
    return end.replace(microsecond=0)


def to_epoch(moment: datetime) -> int:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return int((moment - datetime(1970, 1, 1)).total_seconds())


@dataclass(frozen=True)
class Timeline:
    """``days`` days of history ending at ``end`` (exclusive), hour by hour."""

    end_s: int
    days: int
    hour_starts: np.ndarray = field(repr=False)
    hour_cdf: np.ndarray = field(repr=False)

    @classmethod
    def build(cls, end: datetime, days: int) -> Timeline:
        end_s = to_epoch(end)
        start_s = end_s - days * DAY
        first_hour = start_s - start_s % HOUR
        hour_starts = np.arange(first_hour, end_s, HOUR, dtype=np.int64)
        hour_of_day = (hour_starts // HOUR) % 24
        weekday = ((hour_starts // DAY) + 3) % 7  # 1970-01-01 was a Thursday
        growth = 1.0 + 0.25 * (hour_starts - start_s) / (365 * DAY)  # the shop grows
        weights = HOUR_WEIGHT[hour_of_day] * WEEKDAY_WEIGHT[weekday] * growth
        cdf = np.cumsum(weights)
        return cls(end_s=end_s, days=days, hour_starts=hour_starts, hour_cdf=cdf / cdf[-1])

    @property
    def start_s(self) -> int:
        return self.end_s - self.days * DAY

    @property
    def end(self) -> datetime:
        return datetime(1970, 1, 1) + timedelta(seconds=self.end_s)

    def sample(self, rng: np.random.Generator, not_before: np.ndarray) -> np.ndarray:
        """One traffic-weighted moment per entry, at or after ``not_before`` and before the end."""
        lo_idx = np.searchsorted(self.hour_starts, not_before, side="right") - 1
        lo_idx = np.clip(lo_idx, 0, len(self.hour_starts) - 1)
        lo = np.where(lo_idx > 0, self.hour_cdf[lo_idx - 1], 0.0)
        u = lo + rng.random(len(not_before)) * (1.0 - lo)
        hour = np.minimum(
            np.searchsorted(self.hour_cdf, u, side="right"), len(self.hour_starts) - 1
        )
        moment = self.hour_starts[hour] + rng.integers(0, HOUR, len(not_before))
        return np.clip(np.maximum(moment, not_before), None, self.end_s - 1)
