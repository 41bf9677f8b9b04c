"""Emails: who gets which campaign or flow, and what happens to each message.

Only people with a confirmed subscription get marketing email, and never
after they unsubscribed, hard-bounced or complained. Per message:

- delivered 97-99% (hard bounces ~0.2% plus invalid imported addresses,
  soft bounces ~0.9%);
- opened 20-45% of delivered (person's propensity x program; subject test
  variant B +30%);
- clicked 2-5% of delivered (image test variant B +50%);
- unsubscribed 0.1-0.5% of delivered, more often the longer people have been
  subscribed; spam complaints ~0.03%.

Clicks bring people back to the shop (utm_medium=email), and coupons sent by
email are redeemed 15-30% of the time.

Control groups (see ``holdout``): a person in a program's control group gets
none of its emails; the trigger is recorded as a ``held_out`` message (one
``held_out`` event, no delivery, no coupon, no click, so no email-caused visit
or order). That is the causal effect the ``program_lift`` metric measures.

Hand-over at ``end`` (the product is the one about to send): flow messages due
in the last ``UNSENT_HOURS`` hours before ``end`` are not sent (nor held out),
and neither are birthday emails of birthdays within the birthday audience's
lookahead (``BIRTHDAY_LOOKAHEAD_DAYS`` from the end date) nor reminders of
coupons that expire after ``end`` (inside the coupon audience's lookahead), so
the audiences have sendable people at ``as_of = end``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from activations.generator.campaigns import FLOW_INDEX, Campaigns
from activations.generator.consent import Subscriptions
from activations.generator.holdout import held_out
from activations.generator.orders import Lookup
from activations.generator.people import NO_BIRTH_DAY, People
from activations.generator.sessions import NEVER
from activations.generator.timeline import DAY, Timeline

EVENT_TYPES = (
    "sent",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "spam",
    "unsubscribed",
    "held_out",
)
# the hand-over at `end`: must match the audience vars in dbt_project.yml (# audiences)
UNSENT_HOURS = 24
BIRTHDAY_LOOKAHEAD_DAYS = 7  # birthday_lookahead_days
COUPON_LOOKAHEAD_DAYS = 3  # coupon_expiry_lookahead_days


@dataclass
class Sends:
    cust: np.ndarray
    campaign: np.ndarray
    send_s: np.ndarray
    cart: np.ndarray  # the reminded cart, or -1
    coupon_value: np.ndarray  # 0: no coupon
    coupon_percent: np.ndarray  # bool
    coupon_days: np.ndarray

    def __len__(self) -> int:
        return len(self.cust)

    def take(self, index: np.ndarray) -> Sends:
        return Sends(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @classmethod
    def concat(cls, parts: list[Sends]) -> Sends:
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )


def sends_of(
    campaigns: Campaigns,
    campaign: np.ndarray | int,
    cust: np.ndarray,
    send_s: np.ndarray,
    cart: np.ndarray | None = None,
    coupon_value: np.ndarray | None = None,
) -> Sends:
    n = len(cust)
    campaign = np.broadcast_to(np.asarray(campaign, dtype=np.int64), (n,)).copy()
    spec = [campaigns.programs[c].coupon or (0, "amount", 0) for c in range(len(campaigns))]
    value = np.array([s[0] for s in spec], dtype=float)[campaign] if n else np.zeros(0)
    if coupon_value is not None:
        value = np.where(value > 0, coupon_value, 0.0)
    return Sends(
        cust=cust.astype(np.int64),
        campaign=campaign,
        send_s=send_s.astype(np.int64),
        cart=np.full(n, -1, dtype=np.int64) if cart is None else cart.astype(np.int64),
        coupon_value=value,
        coupon_percent=np.array([s[1] == "percent" for s in spec], dtype=bool)[campaign]
        if n
        else np.zeros(0, dtype=bool),
        coupon_days=np.array([s[2] for s in spec], dtype=np.int64)[campaign]
        if n
        else np.zeros(0, np.int64),
    )


@dataclass
class Behaviour:
    """What the flows react to, per chunk."""

    carts_cust: np.ndarray  # abandoned carts of identified people
    carts_id: np.ndarray
    carts_s: np.ndarray
    browse_cust: np.ndarray  # product views of identified people without a cart
    browse_s: np.ndarray
    order_cust: np.ndarray  # orders (placed), sorted by time
    order_s: np.ndarray
    order_subtotal: np.ndarray
    staple_cust: np.ndarray  # replenishable products bought
    staple_product: np.ndarray
    staple_s: np.ndarray
    staple_cycle: np.ndarray


def _birthdays(people: People, timeline: Timeline) -> tuple[np.ndarray, np.ndarray]:
    known = np.flatnonzero(people.birth_day != NO_BIRTH_DAY)
    born = people.birth_day[known].astype("datetime64[D]")
    month = (
        born.astype("datetime64[M]") - born.astype("datetime64[Y]").astype("datetime64[M]")
    ).astype(np.int64)
    day = (born - born.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    first_year = (
        int(np.datetime64(timeline.start_s, "s").astype("datetime64[Y]").astype(np.int64)) + 1970
    )
    last_year = (
        int(np.datetime64(timeline.end_s + 8 * DAY, "s").astype("datetime64[Y]").astype(np.int64))
        + 1970
    )
    cust, when = [], []
    for year in range(first_year, last_year + 1):
        anniversary = (np.datetime64(f"{year:04d}", "Y").astype("datetime64[M]") + month).astype(
            "datetime64[D]"
        ) + day
        day_s = anniversary.astype("datetime64[s]").astype(np.int64)
        send = day_s - BIRTHDAY_LOOKAHEAD_DAYS * DAY + 8 * 3600
        # birthdays from the end date on are in the audience's lookahead: left to the product
        ok = (send >= timeline.start_s) & (day_s < timeline.end_s // DAY * DAY)
        cust.append(known[ok])
        when.append(send[ok])
    return np.concatenate(cust), np.concatenate(when)


def flow_sends(
    rng: np.random.Generator,
    people: People,
    subs: Subscriptions,
    behaviour: Behaviour,
    campaigns: Campaigns,
    timeline: Timeline,
) -> Sends:
    """Every message the programs would send (before the consent check)."""
    b = behaviour
    base = timeline.start_s - 1000 * DAY
    orders = Lookup(b.order_cust, b.order_s, base)
    parts: list[Sends] = []
    f = FLOW_INDEX

    # welcome series after the double opt-in (imports were welcomed long ago)
    new = np.flatnonzero((subs.confirmed_s < NEVER) & (subs.source != 2))
    for key, delay in (("welcome_1", 300), ("welcome_2", 3 * DAY), ("welcome_3", 7 * DAY)):
        parts.append(sends_of(campaigns, f[key], new, subs.confirmed_s[new] + delay))

    # cart reminders: 1 h and 24 h after the last add, unless the person ordered since
    for key, delay in (("cart_1h", 3600), ("cart_24h", DAY)):
        send = b.carts_s + delay
        ok = ~orders.any_between(b.carts_cust, b.carts_s, send)
        parts.append(sends_of(campaigns, f[key], b.carts_cust[ok], send[ok], cart=b.carts_id[ok]))

    # browse reminders 4 h after a visit, at most one a week, unless they ordered
    send = b.browse_s + 4 * 3600
    ok = ~orders.any_between(b.browse_cust, b.browse_s, send)
    cust, send = b.browse_cust[ok], send[ok]
    _, first = np.unique(cust * 100_000 + send // (7 * DAY), return_index=True)
    parts.append(sends_of(campaigns, f["browse"], cust[first], send[first]))

    # first-order follow-up (accounts created in the window); milestones: 3rd, 5th, 10th order
    order_rank = np.zeros(len(b.order_cust), dtype=np.int64)
    if len(b.order_cust):
        sort = np.lexsort((b.order_s, b.order_cust))
        c = b.order_cust[sort]
        start = np.r_[0, np.flatnonzero(np.diff(c)) + 1]
        counts = np.diff(np.r_[start, len(c)])
        order_rank[sort] = np.arange(len(c)) - np.repeat(start, counts) + 1
    first = (order_rank == 1) & (people.created_s[b.order_cust] >= timeline.start_s)
    parts.append(
        sends_of(campaigns, f["first_order"], b.order_cust[first], b.order_s[first] + 7 * DAY)
    )
    mile = np.isin(order_rank, [3, 5, 10])
    parts.append(sends_of(campaigns, f["milestone"], b.order_cust[mile], b.order_s[mile] + DAY))

    # replenishment due three days before the cycle ends, unless re-bought already
    due = b.staple_s + (b.staple_cycle - 3) * DAY
    key = b.staple_cust * 10_000 + b.staple_product
    rebought = Lookup(key, b.staple_s, base).any_between(key, b.staple_s, due)
    parts.append(sends_of(campaigns, f["replenish"], b.staple_cust[~rebought], due[~rebought]))

    cust, send = _birthdays(people, timeline)
    parts.append(sends_of(campaigns, f["birthday"], cust, send))

    # win-back: accounts older than 60 days with no order in 45 days; coupon by average basket
    spend = np.bincount(b.order_cust, weights=b.order_subtotal, minlength=len(people))
    n_orders = np.bincount(b.order_cust, minlength=len(people))
    basket = np.where(n_orders > 0, spend / np.maximum(n_orders, 1), 0.0)
    value = np.select([basket >= 70, basket >= 30], [15.0, 10.0], 5.0)
    everyone = np.arange(len(people))
    for c in campaigns.indices("dormant_customers"):
        moment = campaigns.sent_s[c]
        last = orders.last_before(everyone, np.full(len(people), moment))
        ok = (people.created_s < moment - 60 * DAY) & (last < moment - 45 * DAY)
        parts.append(
            sends_of(campaigns, c, everyone[ok], np.full(ok.sum(), moment), coupon_value=value[ok])
        )

    for c in campaigns.indices("newsletter"):
        parts.append(sends_of(campaigns, c, everyone, np.full(len(people), campaigns.sent_s[c])))

    sends = Sends.concat(parts)
    # campaigns went out as scheduled; flow messages of the last hours are the product's to send
    flow = campaigns.kind_is_flow[sends.campaign]
    due = np.where(flow, timeline.end_s - UNSENT_HOURS * 3600, timeline.end_s)
    return sends.take(np.flatnonzero(sends.send_s < due))


@dataclass
class Messages:
    """One row per message with what happened to it."""

    sends: Sends
    variant: np.ndarray  # 0 none, 1 A, 2 B
    delivered_s: np.ndarray  # NEVER when bounced
    bounced: np.ndarray  # 0 no, 1 soft, 2 hard
    opened_s: np.ndarray  # NEVER when not opened (or after the end)
    clicked_s: np.ndarray
    unsubscribed_s: np.ndarray
    spam_s: np.ndarray
    held_out: np.ndarray  # bool: the person is in the program's control group, nothing sent

    def __len__(self) -> int:
        return len(self.sends)

    def take(self, index: np.ndarray) -> Messages:
        return Messages(
            sends=self.sends.take(index),
            **{f.name: getattr(self, f.name)[index] for f in fields(self) if f.name != "sends"},
        )

    @classmethod
    def concat(cls, parts: list[Messages]) -> Messages:
        return cls(
            sends=Sends.concat([p.sends for p in parts]),
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(cls)
                if f.name != "sends"
            },
        )

    def ended_s(self) -> np.ndarray:
        """When each message ended the subscription (NEVER if it did not)."""
        hard = np.where(self.bounced == 2, self.sends.send_s + 5, NEVER)
        return np.minimum(np.minimum(hard, self.unsubscribed_s), self.spam_s)


def deliver(
    rng: np.random.Generator,
    sends: Sends,
    people: People,
    subs: Subscriptions,
    campaigns: Campaigns,
    timeline: Timeline,
    *,
    may_end: bool = True,
    ended_before: np.ndarray | None = None,
) -> Messages:
    """Keep consented sends, hold out control groups, draw each message's fate, stop
    mailing people who opted out."""
    eligible = subs.confirmed_s[sends.cust] <= sends.send_s
    if ended_before is not None:
        eligible &= sends.send_s < ended_before[sends.cust]
    sends = sends.take(np.flatnonzero(eligible))
    n = len(sends)
    c = sends.campaign
    control = held_out(people.number, sends.cust, campaigns.program_names[c])
    ab = campaigns.ab_kind[c]
    variant = np.where((ab > 0) & ~control, 1 + (rng.random(n) < 0.5), 0)
    roll = rng.random(n)
    invalid = ~people.email_valid[sends.cust]
    hard = ~control & (invalid | (roll < 0.002))
    soft = ~control & ~hard & (roll < 0.011)
    bounced = np.select([hard, soft], [2, 1], 0)
    delivered = (bounced == 0) & ~control
    end = timeline.end_s

    def moment(mask: np.ndarray, at: np.ndarray) -> np.ndarray:
        at = at.astype(np.int64)
        return np.where(mask & (at < end), at, NEVER)

    delivered_s = moment(delivered, sends.send_s + rng.integers(2, 40, n))
    p_open = (
        people.open_propensity[sends.cust]
        * campaigns.open_factor[c]
        * np.where((ab == 1) & (variant == 2), 1.3, 1.0)
    )
    opened = delivered & (rng.random(n) < np.clip(p_open, 0, 0.95))
    opened_s = moment(opened & (delivered_s < NEVER), delivered_s + rng.exponential(4 * 3600, n))
    p_click = 0.095 * campaigns.click_factor[c] * np.where((ab == 2) & (variant == 2), 1.5, 1.0)
    clicked = (opened_s < NEVER) & (rng.random(n) < p_click)
    clicked_s = moment(clicked, opened_s + 20 + rng.exponential(90, n))
    tenure = np.maximum(sends.send_s - subs.confirmed_s[sends.cust], 0) / DAY
    unsub = delivered & (rng.random(n) < 0.0012 * (1 + tenure / 180)) & may_end
    unsubscribed_s = moment(
        unsub & (delivered_s < NEVER),
        np.where(opened_s < NEVER, opened_s + 45, delivered_s + rng.exponential(3 * 3600, n)),
    )
    spam = delivered & ~unsub & (rng.random(n) < 0.0003) & may_end
    spam_s = moment(spam & (delivered_s < NEVER), delivered_s + rng.exponential(6 * 3600, n))
    if not may_end:
        bounced = np.where(bounced == 2, 1, bounced)
    messages = Messages(
        sends=sends,
        variant=variant,
        delivered_s=delivered_s,
        bounced=bounced,
        opened_s=opened_s,
        clicked_s=clicked_s,
        unsubscribed_s=unsubscribed_s,
        spam_s=spam_s,
        held_out=control,
    )
    if not may_end:
        return messages
    # nobody is mailed after the message that ended their subscription
    ended = np.full(len(people), NEVER, dtype=np.int64)
    np.minimum.at(ended, sends.cust, messages.ended_s())
    return messages.take(np.flatnonzero(sends.send_s <= ended[sends.cust]))


def ended_by(messages: Messages, n_people: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(people, consent status index, when) for subscriptions that ended."""
    end = messages.ended_s()
    cust = messages.sends.cust
    first = np.full(n_people, NEVER, dtype=np.int64)
    np.minimum.at(first, cust, end)
    who = np.flatnonzero(first < NEVER)
    # status of the ending message: unsubscribed=1, bounced=2, spam_complaint=3
    idx = np.flatnonzero((end < NEVER) & (end == first[cust]))
    _, uniq = np.unique(cust[idx], return_index=True)
    idx = idx[uniq]
    status = np.select([messages.bounced[idx] == 2, messages.spam_s[idx] == end[idx]], [2, 3], 1)
    return who, status, first[who]


@dataclass
class Coupons:
    cust: np.ndarray
    campaign: np.ndarray
    value: np.ndarray
    percent: np.ndarray
    issued_s: np.ndarray
    expires_s: np.ndarray
    redeem_s: np.ndarray  # planned redemption (NEVER if not)
    opened: np.ndarray

    def __len__(self) -> int:
        return len(self.cust)


def issue_coupons(
    rng: np.random.Generator,
    messages: Messages,
    timeline: Timeline,
    buys_anyway: Lookup | None = None,
) -> Coupons:
    """A coupon per delivered coupon-bearing message; redeemed mostly by people who opened it,
    and by people who were going to order while it is valid anyway (``buys_anyway``: their
    orders without email; those redeem it on that order, see simulate)."""
    s = messages.sends
    idx = np.flatnonzero((s.coupon_value > 0) & (messages.delivered_s < NEVER))
    n = len(idx)
    issued = messages.delivered_s[idx]
    expires = issued + s.coupon_days[idx] * DAY
    opened = messages.opened_s[idx] < NEVER
    anyway = (
        buys_anyway.any_between(s.cust[idx], issued, expires)
        if buys_anyway is not None
        else np.zeros(n, dtype=bool)
    )
    p_redeem = np.where(opened, np.where(anyway, 0.7, 0.3), np.where(anyway, 0.4, 0.04))
    redeems = rng.random(n) < p_redeem
    after = np.where(opened, messages.opened_s[idx], issued) + (
        rng.exponential(2.0, n) * DAY
    ).astype(np.int64)
    redeem = np.where(redeems & (after < expires) & (after < timeline.end_s - 600), after, NEVER)
    return Coupons(
        cust=s.cust[idx],
        campaign=s.campaign[idx],
        value=s.coupon_value[idx],
        percent=s.coupon_percent[idx],
        issued_s=issued,
        expires_s=expires,
        redeem_s=redeem,
        opened=opened,
    )
