"""Sessions expanded into Segment-style track and identify calls (columnar).

Inside a session: product views every ``gap`` seconds; the pop-up shows after
10 s and is submitted after 40 s; then items are added every 25 s, the cart
viewed, checkout started and the order completed. Events before the person
logs in carry no user_id; the identify call ties the browser to the person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activations.generator.catalog import Catalog
from activations.generator.people import People
from activations.generator.sessions import NEVER, Lines, Sessions, pick_products
from activations.generator.timeline import Timeline
from activations.warehouse.raw_schema import EVENT_PROPERTIES

EVENT_NAMES = tuple(EVENT_PROPERTIES)
CODE = {name: i for i, name in enumerate(EVENT_NAMES)}


@dataclass
class EventRows:
    session: np.ndarray
    code: np.ndarray
    t: np.ndarray
    product: np.ndarray  # -1 when none
    quantity: np.ndarray  # 0 when none


def _within(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, position within owner) for ``counts`` items per owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - starts[owner]


def expand(
    rng: np.random.Generator,
    sessions: Sessions,
    lines: Lines,
    people: People,
    catalog: Catalog,
    per_session_lines: np.ndarray,
    timeline: Timeline,
) -> EventRows:
    s = sessions
    parts: list[tuple[np.ndarray, int | np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(
        idx: np.ndarray,
        code: int,
        t: np.ndarray,
        product: np.ndarray | None = None,
        quantity: np.ndarray | None = None,
    ) -> None:
        n = len(idx)
        parts.append(
            (
                idx,
                np.full(n, code),
                t,
                np.full(n, -1) if product is None else product,
                np.zeros(n, dtype=np.int64) if quantity is None else quantity,
            )
        )

    owner, k = _within(s.n_views)
    viewed = catalog.in_stock_alternative[pick_products(rng, people, catalog, s.cust[owner])]
    viewed = np.where(
        rng.random(len(owner)) < 0.1, pick_products(rng, people, catalog, s.cust[owner]), viewed
    )
    add(owner, CODE["Product Viewed"], s.start_s[owner] + k * s.gap_s[owner], viewed)

    i = np.flatnonzero(s.popup_shown)
    add(i, CODE["Newsletter Popup Shown"], s.start_s[i] + 10)
    i = np.flatnonzero(s.popup_submitted)
    add(i, CODE["Newsletter Signup Submitted"], s.start_s[i] + 40)
    i = np.flatnonzero(s.chatbot)
    add(i, CODE["Chatbot Started"], s.start_s[i] + 15)
    add(i, CODE["Chatbot Ended"], s.start_s[i] + 15 + 25 * s.chatbot_messages[i])

    # adds: the cart's lines, in the session that created the cart
    first_add = s.start_s + s.n_views * s.gap_s + 10
    adds_end = s.adds_end_s(per_session_lines)
    cart_session = np.full(int(s.cart.max(initial=-1)) + 1, -1, dtype=np.int64)
    creators = np.flatnonzero(s.adds)
    cart_session[s.cart[creators]] = creators
    li = (
        np.flatnonzero(cart_session[lines.cart] >= 0) if len(lines) else np.zeros(0, dtype=np.int64)
    )
    owner = cart_session[lines.cart[li]]
    add(
        owner,
        CODE["Product Added"],
        first_add[owner] + 25 * (lines.line_number[li] - 1),
        lines.product[li],
        lines.quantity[li],
    )
    rm = li[lines.removed[li]]
    owner = cart_session[lines.cart[rm]]
    add(owner, CODE["Product Removed"], adds_end[owner] + 5, lines.product[rm], lines.quantity[rm])

    i = np.flatnonzero(s.cart_viewed)
    add(i, CODE["Cart Viewed"], adds_end[i] + 20)
    checkout = s.checkout_s(per_session_lines)
    i = np.flatnonzero(s.checkout)
    add(i, CODE["Checkout Started"], checkout[i])
    i = np.flatnonzero(s.checkout & (s.coupon >= 0))
    add(i, CODE["Coupon Applied"], checkout[i] + 30)
    i = np.flatnonzero(s.order)
    add(i, CODE["Order Completed"], s.order_s(per_session_lines)[i])

    rows = EventRows(*(np.concatenate([p[j] for p in parts]).astype(np.int64) for j in range(5)))
    keep = np.flatnonzero(rows.t < timeline.end_s)
    return EventRows(
        *(a[keep] for a in (rows.session, rows.code, rows.t, rows.product, rows.quantity))
    )


def logins(
    sessions: Sessions, per_session_lines: np.ndarray, timeline: Timeline
) -> tuple[np.ndarray, np.ndarray]:
    """(session index, moment) of every identify call."""
    at = sessions.login_s(per_session_lines)
    idx = np.flatnonzero((at < NEVER) & (at < timeline.end_s))
    return idx, at[idx]
