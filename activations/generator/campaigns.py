"""The email programs: one-off campaigns and triggered flows.

Newsletters go out every Thursday at 08:00 UTC, win-back campaigns to dormant
customers every four weeks; flows (welcome series, cart and browse reminders,
first-order follow-up, order milestones, replenishment, birthday, expiring
coupons) run for the whole window. Some campaigns and flows A/B test the
subject line (variant B opens about 30% more) or the image (variant B is
clicked about 50% more).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from activations.generator.timeline import DAY, Timeline


@dataclass(frozen=True)
class Program:
    key: str
    name: str
    kind: str  # campaign | flow
    program: str
    ab_test: str | None = None
    coupon: tuple[float, str, int] | None = None  # value, amount|percent, valid days
    open_factor: float = 1.0
    click_factor: float = 1.0


FLOWS: tuple[Program, ...] = (
    Program(
        "welcome_1",
        "Welcome 1: thanks for subscribing",
        "flow",
        "welcome_series",
        "image",
        (10, "percent", 14),
        1.45,
        1.3,
    ),
    Program(
        "welcome_2", "Welcome 2: our best sellers", "flow", "welcome_series", None, None, 1.25, 1.1
    ),
    Program(
        "welcome_3", "Welcome 3: how delivery works", "flow", "welcome_series", None, None, 1.1, 1.0
    ),
    Program(
        "cart_1h",
        "Cart reminder after 1 hour",
        "flow",
        "cart_abandoners",
        "subject",
        None,
        1.3,
        1.8,
    ),
    Program(
        "cart_24h",
        "Cart reminder after 24 hours",
        "flow",
        "cart_abandoners",
        None,
        (5, "amount", 7),
        1.2,
        1.6,
    ),
    Program(
        "browse", "Still thinking about it?", "flow", "browse_abandoners", None, None, 1.1, 1.3
    ),
    Program(
        "first_order",
        "How was your first order?",
        "flow",
        "first_order_followup",
        None,
        None,
        1.3,
        1.0,
    ),
    Program(
        "milestone",
        "Thank you for being a regular",
        "flow",
        "order_milestones",
        None,
        None,
        1.2,
        1.0,
    ),
    Program("replenish", "Running low?", "flow", "replenishment_due", "image", None, 1.15, 1.5),
    Program(
        "birthday",
        "Happy birthday from us",
        "flow",
        "birthday_upcoming",
        None,
        (10, "amount", 14),
        1.35,
        1.3,
    ),
    Program(
        "coupon_expiring",
        "Your coupon expires soon",
        "flow",
        "coupon_expiring",
        "subject",
        None,
        1.2,
        1.2,
    ),
)
FLOW_INDEX = {p.key: i for i, p in enumerate(FLOWS)}
NEWSLETTER = Program("newsletter", "Newsletter", "campaign", "newsletter", None, None, 0.85, 0.9)
WINBACK = Program(
    "winback", "We miss you", "campaign", "dormant_customers", None, (10, "amount", 21), 0.9, 1.2
)


@dataclass(frozen=True)
class Campaigns:
    programs: list[Program]
    sent_s: np.ndarray  # int64: send moment of one-off campaigns, flow start for flows

    def __len__(self) -> int:
        return len(self.programs)

    def indices(self, program: str) -> np.ndarray:
        return np.array(
            [
                i
                for i, p in enumerate(self.programs)
                if p.program == program and p.kind == "campaign"
            ],
            dtype=np.int64,
        )

    @property
    def ab_kind(self) -> np.ndarray:
        return np.array(
            [{None: 0, "subject": 1, "image": 2}[p.ab_test] for p in self.programs], dtype=np.int64
        )

    @property
    def program_names(self) -> np.ndarray:
        return np.array([p.program for p in self.programs], dtype=object)

    @property
    def kind_is_flow(self) -> np.ndarray:
        return np.array([p.kind == "flow" for p in self.programs], dtype=bool)

    @property
    def open_factor(self) -> np.ndarray:
        return np.array([p.open_factor for p in self.programs])

    @property
    def click_factor(self) -> np.ndarray:
        return np.array([p.click_factor for p in self.programs])

    def table(self) -> pa.Table:
        return pa.table(
            {
                "campaign_id": pa.array(
                    [f"cmp_{i + 1:05d}" for i in range(len(self))], pa.string()
                ),
                "name": pa.array([p.name for p in self.programs], pa.string()),
                "kind": pa.array([p.kind for p in self.programs], pa.string()),
                "program": pa.array([p.program for p in self.programs], pa.string()),
                "ab_test": pa.array([p.ab_test for p in self.programs], pa.string()),
                "started_s": pa.array(self.sent_s, pa.int64()),
            }
        )


def build_campaigns(timeline: Timeline) -> Campaigns:
    """Flows first (fixed indices), then the dated one-off campaigns in send order."""
    programs = list(FLOWS)
    sent = [timeline.start_s - 180 * DAY] * len(FLOWS)
    epoch = datetime(1970, 1, 1)
    first_day = timeline.start_s // DAY
    for day in range(first_day, timeline.end_s // DAY + 1):
        moment = day * DAY + 8 * 3600
        if not (timeline.start_s <= moment < timeline.end_s):
            continue
        weekday = (day + 3) % 7
        label = (epoch + timedelta(days=int(day))).strftime("%Y-%m-%d")
        if weekday == 3:  # Thursday newsletter; two of three test something
            week = len([p for p in programs if p.program == "newsletter"])
            test = ("subject", "image", None)[week % 3]
            programs.append(
                Program(
                    "newsletter",
                    f"Newsletter {label}",
                    "campaign",
                    "newsletter",
                    test,
                    None,
                    NEWSLETTER.open_factor,
                    NEWSLETTER.click_factor,
                )
            )
            sent.append(moment)
        if weekday == 1 and (day - first_day) % 28 >= 21:  # every fourth Tuesday
            programs.append(
                Program(
                    "winback",
                    f"We miss you {label}",
                    "campaign",
                    "dormant_customers",
                    None,
                    WINBACK.coupon,
                    WINBACK.open_factor,
                    WINBACK.click_factor,
                )
            )
            sent.append(moment + 2 * 3600)
    return Campaigns(programs=programs, sent_s=np.array(sent, dtype=np.int64))
