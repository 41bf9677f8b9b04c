"""Orders: placed from sessions that completed checkout.

- Staples are re-bought about one cycle after the previous purchase (70% of
  the time), which chains into repeat purchases of the same product.
- Statuses: mostly ``shipped`` (older) or ``paid`` (last days); recent orders
  are sometimes still ``pending_payment``; about 2% ``cancelled`` and 2.5%
  ``refunded``.
- ``total = subtotal - discount + shipping``; shipping is free from 49 EUR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activations.generator.catalog import Catalog
from activations.generator.people import People
from activations.generator.sessions import (
    KIND,
    LOGIN_AT_START,
    Lines,
    Sessions,
    fill_carts,
    new_sessions,
)
from activations.generator.timeline import DAY, Timeline

STATUSES = ("pending_payment", "paid", "shipped", "cancelled", "refunded")
FREE_SHIPPING_FROM = 49.0
SHIPPING_FEE = 4.99
SPAN = np.int64(1) << 36


def lines_per_cart(lines: Lines, n_carts: int) -> np.ndarray:
    return np.bincount(lines.cart, minlength=n_carts).astype(np.int64)


def session_lines(sessions: Sessions, per_cart: np.ndarray) -> np.ndarray:
    """Number of lines added in each session (0 without a cart)."""
    has = sessions.cart >= 0
    return np.where(has, per_cart[np.where(has, sessions.cart, 0)], 0)


class Lookup:
    """Is there an event of person c in the open interval (a, b)? Vectorised with sorted keys."""

    def __init__(self, cust: np.ndarray, moment: np.ndarray, base: int):
        self.base = base
        self.keys = np.sort(cust.astype(np.int64) * SPAN + (moment - base))

    def any_between(self, cust: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        lo = cust.astype(np.int64) * SPAN + (a - self.base)
        hi = cust.astype(np.int64) * SPAN + (b - self.base)
        idx = np.searchsorted(self.keys, lo, side="right")
        nxt = (
            self.keys[np.minimum(idx, len(self.keys) - 1)]
            if len(self.keys)
            else np.zeros(len(cust))
        )
        return (idx < len(self.keys)) & (nxt < hi)

    def last_before(self, cust: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The latest moment strictly before b for person c, or -1."""
        hi = cust.astype(np.int64) * SPAN + (b - self.base)
        idx = np.searchsorted(self.keys, hi, side="left") - 1
        prev = (
            self.keys[np.maximum(idx, 0)] if len(self.keys) else np.zeros(len(cust), dtype=np.int64)
        )
        ok = (idx >= 0) & (prev // SPAN == cust)
        return np.where(ok, prev % SPAN + self.base, -1)


def replenish(
    rng: np.random.Generator,
    sessions: Sessions,
    lines: Lines,
    people: People,
    catalog: Catalog,
    timeline: Timeline,
) -> tuple[Sessions, Lines]:
    """Re-buy staples about one cycle later, generation after generation, until the window ends."""
    all_sessions, all_lines = [sessions], [lines]
    n_carts = int(sessions.cart.max(initial=-1)) + 1
    current, current_lines = sessions, lines
    while len(current):
        per_cart = (
            lines_per_cart(current_lines, n_carts)
            if len(current_lines)
            else np.zeros(n_carts, np.int64)
        )
        per_cart = np.pad(per_cart, (0, max(0, n_carts - len(per_cart))))
        ordered = np.flatnonzero(current.order)
        placed = current.order_s(session_lines(current, per_cart))[ordered]
        # first replenishable, kept line of each ordered cart
        cart_of = np.full(n_carts, -1, dtype=np.int64)
        cart_of[current.cart[ordered]] = np.arange(len(ordered))
        ok = catalog.replenishable[current_lines.product] & ~current_lines.removed
        ok &= cart_of[current_lines.cart] >= 0 if len(current_lines) else ok
        cand = np.flatnonzero(ok)
        _, first = np.unique(current_lines.cart[cand], return_index=True)
        cand = cand[first]
        row = cart_of[current_lines.cart[cand]]
        product = current_lines.product[cand]
        cycle = catalog.replenish_cycle_days[product]
        when = placed[row] + (cycle * rng.lognormal(0.0, 0.12, len(cand)) * DAY).astype(np.int64)
        keep = (rng.random(len(cand)) < 0.7) & (when < timeline.end_s - 3600)
        cust = current.cust[ordered][row][keep]
        nxt = new_sessions(
            rng,
            people,
            cust,
            when[keep],
            "replenish",
            p_add=1.0,
            p_checkout=1.0,
            p_order=1.0,
            login=LOGIN_AT_START,
        )
        nxt.cart_viewed[:] = True
        must = catalog.in_stock_alternative[product[keep]]
        nxt_lines = fill_carts(rng, nxt, people, catalog, n_carts, must_include=must)
        n_carts += len(nxt)
        all_sessions.append(nxt)
        all_lines.append(nxt_lines)
        current, current_lines = nxt, nxt_lines
    return Sessions.concat(all_sessions), Lines.concat(all_lines)


@dataclass
class Orders:
    session: np.ndarray  # index into sessions
    cust: np.ndarray
    cart: np.ndarray
    placed_s: np.ndarray
    status: np.ndarray  # index into STATUSES
    updated_s: np.ndarray
    subtotal: np.ndarray
    discount: np.ndarray
    shipping: np.ndarray
    total: np.ndarray
    coupon: np.ndarray  # local coupon index or -1

    def __len__(self) -> int:
        return len(self.session)


def cart_subtotals(lines: Lines, catalog: Catalog, n_carts: int) -> np.ndarray:
    kept = ~lines.removed
    amount = np.round(catalog.price[lines.product] * lines.quantity, 2) * kept
    return np.round(np.bincount(lines.cart, weights=amount, minlength=n_carts), 2)


def build_orders(
    rng: np.random.Generator,
    sessions: Sessions,
    lines: Lines,
    catalog: Catalog,
    coupon_value: np.ndarray,
    coupon_percent: np.ndarray,
    timeline: Timeline,
) -> Orders:
    n_carts = int(sessions.cart.max(initial=-1)) + 1
    per_cart = lines_per_cart(lines, n_carts)
    idx = np.flatnonzero(sessions.order)
    idx = idx[np.argsort(sessions.start_s[idx], kind="stable")]  # order numbers follow time
    s = sessions.take(idx)
    placed = s.order_s(session_lines(s, per_cart))
    cart = s.cart
    subtotal = cart_subtotals(lines, catalog, n_carts)[cart]
    coupon = s.coupon
    has = coupon >= 0
    value = (
        np.where(has, coupon_value[np.where(has, coupon, 0)], 0.0)
        if len(coupon_value)
        else np.zeros(len(idx))
    )
    pct = (
        np.where(has, coupon_percent[np.where(has, coupon, 0)], False)
        if len(coupon_value)
        else np.zeros(len(idx), dtype=bool)
    )
    discount = np.where(pct, np.round(subtotal * value / 100, 2), np.minimum(value, subtotal))
    shipping = np.where(subtotal - discount >= FREE_SHIPPING_FROM, 0.0, SHIPPING_FEE)
    total = np.round(subtotal - discount + shipping, 2)

    n = len(idx)
    age = timeline.end_s - placed
    roll = rng.random(n)
    pending = np.where(age < 2 * DAY, roll < 0.3, roll < 0.004)
    cancelled = ~pending & (rng.random(n) < 0.02)
    refunded = ~pending & ~cancelled & (age > 4 * DAY) & (rng.random(n) < 0.025)
    shipped_after = (rng.uniform(0.5, 3.0, n) * DAY).astype(np.int64)
    shipped = ~pending & ~cancelled & ~refunded & (age > shipped_after)
    status = np.select([pending, cancelled, refunded, shipped], [0, 3, 4, 2], 1)
    updated = np.select(
        [pending, cancelled, refunded, shipped],
        [
            placed,
            placed + (rng.uniform(0.1, 2, n) * DAY).astype(np.int64),
            placed + (rng.uniform(4, 14, n) * DAY).astype(np.int64),
            placed + shipped_after,
        ],
        placed + 300,
    )
    updated = np.minimum(updated, timeline.end_s - 1)
    return Orders(
        session=idx,
        cust=s.cust,
        cart=cart,
        placed_s=placed,
        status=status,
        updated_s=updated,
        subtotal=subtotal,
        discount=discount,
        shipping=shipping,
        total=total,
        coupon=coupon,
    )


def is_purchase(kind: np.ndarray) -> np.ndarray:
    """Sessions whose orders count for flows (not the ones emails themselves caused)."""
    return np.isin(kind, [KIND["organic"], KIND["signup"], KIND["replenish"]])
