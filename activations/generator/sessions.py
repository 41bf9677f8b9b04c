"""Browsing sessions and their carts.

A session views a few products, may add some to a cart, may check out and may
complete the order. Session kinds:

- ``organic``: visits drawn from each person's (heavy-tailed) visit rate;
- ``pre_signup``: anonymous visits before the account exists;
- ``signup``: the visit where the account is created (an identify call);
- ``replenish``: a staple re-bought about one cycle after the last purchase;
- ``email``: a visit from a clicked email link (utm_medium=email);
- ``cart_return``: a clicked cart reminder that completes the abandoned cart;
- ``coupon``: an order that redeems a coupon.

Everything is columnar (numpy); nothing here loops over sessions in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from activations.generator.catalog import Catalog
from activations.generator.people import People
from activations.generator.timeline import Timeline

KINDS = ("organic", "pre_signup", "signup", "replenish", "email", "cart_return", "coupon")
KIND = {name: i for i, name in enumerate(KINDS)}
# how a session's person becomes known to the event stream
LOGIN_AT_START, LOGIN_AT_ADD, LOGIN_AT_CHECKOUT, LOGIN_NEVER, LOGIN_AT_SIGNUP = range(5)
# traffic sources: (utm source, medium, referrer)
SOURCES = (
    (None, None, None),  # direct
    (None, None, "https://www.google.com/"),  # organic search
    ("google", "cpc", "https://www.google.com/"),
    ("facebook", "paid_social", "https://l.facebook.com/"),
    ("newsletter", "email", None),  # set for email sessions
)
SOURCE_WEIGHT = np.array([0.38, 0.32, 0.18, 0.12])
EMAIL_SOURCE = 4
CHATBOT_TOPICS = np.array(
    ["delivery", "product question", "returns", "payment", "order status"], dtype=object
)
NO = -1
NEVER = np.iinfo(np.int64).max // 4


@dataclass
class Sessions:
    cust: np.ndarray  # local customer index
    kind: np.ndarray
    start_s: np.ndarray
    slot: np.ndarray  # which of the person's browsers (anonymous_id)
    gap_s: np.ndarray  # seconds between page views
    n_views: np.ndarray
    login: np.ndarray  # LOGIN_*
    source: np.ndarray  # index into SOURCES
    campaign: np.ndarray  # campaign index for email sessions, else -1
    variant: np.ndarray  # 0 none, 1 A, 2 B
    popup_shown: np.ndarray
    popup_submitted: np.ndarray
    chatbot: np.ndarray
    chatbot_resolved: np.ndarray
    chatbot_messages: np.ndarray
    chatbot_topic: np.ndarray
    cart: np.ndarray  # local cart index or -1
    adds: np.ndarray  # Product Added events happen in this session
    cart_viewed: np.ndarray
    checkout: np.ndarray
    order: np.ndarray  # completed an order
    coupon: np.ndarray  # local coupon index or -1

    def __len__(self) -> int:
        return len(self.cust)

    @classmethod
    def concat(cls, parts: list[Sessions]) -> Sessions:
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def take(self, index: np.ndarray) -> Sessions:
        return Sessions(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    # moments inside a session, in seconds from its start (see events.py)
    def adds_end_s(self, n_lines: np.ndarray) -> np.ndarray:
        return self.start_s + self.n_views * self.gap_s + 10 + 25 * n_lines * self.adds

    def checkout_s(self, n_lines: np.ndarray) -> np.ndarray:
        return self.adds_end_s(n_lines) + 60

    def order_s(self, n_lines: np.ndarray) -> np.ndarray:
        return self.checkout_s(n_lines) + 150

    def login_s(self, n_lines: np.ndarray) -> np.ndarray:
        """When the person is identified in the session (NEVER if not)."""
        first_add = self.start_s + self.n_views * self.gap_s + 10
        return np.select(
            [
                self.login == LOGIN_AT_START,
                self.login == LOGIN_AT_ADD,
                self.login == LOGIN_AT_CHECKOUT,
                self.login == LOGIN_AT_SIGNUP,
            ],
            [
                self.start_s,
                first_add - 1,
                self.checkout_s(n_lines) - 1,
                self.start_s + self.n_views * self.gap_s,
            ],
            NEVER,
        )


@dataclass
class Lines:
    """Cart lines. ``removed`` lines were taken out again and are not ordered."""

    cart: np.ndarray
    line_number: np.ndarray  # 1-based
    product: np.ndarray
    quantity: np.ndarray
    removed: np.ndarray

    def __len__(self) -> int:
        return len(self.cart)

    @classmethod
    def concat(cls, parts: list[Lines]) -> Lines:
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )


def empty_lines() -> Lines:
    z = np.zeros(0, dtype=np.int64)
    return Lines(z, z, z, z, np.zeros(0, dtype=bool))


def pick_products(
    rng: np.random.Generator, people: People, catalog: Catalog, cust: np.ndarray
) -> np.ndarray:
    """Products a person looks at: half from their favourite subcategories, half best sellers."""
    n = len(cust)
    popular = rng.choice(len(catalog), n, p=catalog.popularity)
    fav_sub = people.favourite_subcategories[cust, rng.integers(0, 3, n)]
    order = np.argsort(catalog.subcategory_index, kind="stable")
    sub_sorted = catalog.subcategory_index[order]
    lo = np.searchsorted(sub_sorted, fav_sub, side="left")
    hi = np.searchsorted(sub_sorted, fav_sub, side="right")
    favourite = order[lo + (rng.random(n) * (hi - lo)).astype(np.int64)]
    return np.where(rng.random(n) < 0.5, favourite, popular)


def new_sessions(
    rng: np.random.Generator,
    people: People,
    cust: np.ndarray,
    start_s: np.ndarray,
    kind: str,
    *,
    p_add: np.ndarray | float,
    p_checkout: float,
    p_order: float,
    login: np.ndarray | int | None = None,
    source: np.ndarray | int | None = None,
    popup_open: np.ndarray | None = None,
) -> Sessions:
    """Draw the funnel of new sessions. ``popup_open``: the pop-up may show."""
    n = len(cust)
    b = np.zeros(n, dtype=bool)
    adds = rng.random(n) < p_add
    chatbot = rng.random(n) < 0.04
    resolved = chatbot & (rng.random(n) < 0.75)
    checkout = adds & (rng.random(n) < np.where(resolved, min(1.0, p_checkout * 1.4), p_checkout))
    order = checkout & (rng.random(n) < p_order)
    if login is None:
        recognised = rng.random(n) < 0.45
        at_add = adds & (rng.random(n) < 0.5)
        login = np.select(
            [recognised, at_add, checkout],
            [LOGIN_AT_START, LOGIN_AT_ADD, LOGIN_AT_CHECKOUT],
            LOGIN_NEVER,
        )
    if source is None:
        source = rng.choice(len(SOURCE_WEIGHT), n, p=SOURCE_WEIGHT)
    shown = b.copy() if popup_open is None else popup_open & (rng.random(n) < 0.6)
    return Sessions(
        cust=cust.astype(np.int64),
        kind=np.full(n, KIND[kind], dtype=np.int64),
        start_s=start_s.astype(np.int64),
        slot=(rng.random(n) * people.devices[cust]).astype(np.int64),
        gap_s=(20 + rng.exponential(40, n)).astype(np.int64),
        n_views=1 + rng.negative_binomial(2, 0.45, n),
        login=np.broadcast_to(np.asarray(login, dtype=np.int64), (n,)).copy(),
        source=np.broadcast_to(np.asarray(source, dtype=np.int64), (n,)).copy(),
        campaign=np.full(n, NO, dtype=np.int64),
        variant=np.zeros(n, dtype=np.int64),
        popup_shown=shown,
        popup_submitted=shown & (rng.random(n) < 0.055),
        chatbot=chatbot,
        chatbot_resolved=resolved,
        chatbot_messages=np.where(chatbot, 2 + rng.poisson(6, n), 0),
        chatbot_topic=rng.integers(0, len(CHATBOT_TOPICS), n),
        cart=np.full(n, NO, dtype=np.int64),
        adds=adds,
        cart_viewed=adds & (rng.random(n) < 0.6),
        checkout=checkout,
        order=order,
        coupon=np.full(n, NO, dtype=np.int64),
    )


def fill_carts(
    rng: np.random.Generator,
    sessions: Sessions,
    people: People,
    catalog: Catalog,
    first_cart: int,
    must_include: np.ndarray | None = None,
) -> Lines:
    """Give every session that adds to cart a new cart and its lines (in place)."""
    idx = np.flatnonzero(sessions.adds & (sessions.cart == NO))
    sessions.cart[idx] = first_cart + np.arange(len(idx))
    if not len(idx):
        return empty_lines()
    n_lines = 1 + rng.negative_binomial(1.5, 0.35, len(idx))
    cart = np.repeat(sessions.cart[idx], n_lines)
    cust = np.repeat(sessions.cust[idx], n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_number = np.arange(len(cart)) - np.repeat(starts, n_lines) + 1
    product = catalog.in_stock_alternative[pick_products(rng, people, catalog, cust)]
    for _ in range(4):  # one line per product: pick again where a cart repeats a product
        _, first = np.unique(cart * len(catalog) + product, return_index=True)
        dup = np.ones(len(cart), dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        product[dup] = catalog.in_stock_alternative[pick_products(rng, people, catalog, cust[dup])]
    if must_include is not None:
        product[starts] = must_include[idx]
    quantity = 1 + rng.geometric(0.55, len(cart)) - 1
    stock_up = np.repeat(rng.random(len(idx)) < 0.03, n_lines)  # parties, offices, stocking up
    quantity = np.where(stock_up, quantity * rng.integers(2, 6, len(cart)), quantity)
    # abandoned carts sometimes lose their last line; ordered carts sometimes too
    removes = (rng.random(len(idx)) < 0.12) & (n_lines > 1)
    removed = np.zeros(len(cart), dtype=bool)
    removed[(starts + n_lines - 1)[removes]] = True
    return Lines(
        cart=cart, line_number=line_number, product=product, quantity=quantity, removed=removed
    )


def organic_sessions(rng: np.random.Generator, people: People, timeline: Timeline) -> Sessions:
    """Visits at each person's rate, plus the sign-up visit and anonymous visits before it."""
    n = len(people)
    start = timeline.start_s
    signed_up_in_window = people.created_s >= start
    active_from = np.maximum(people.created_s, start)
    active_days = (timeline.end_s - active_from) / 86_400
    counts = rng.poisson(people.visit_rate * active_days)
    cust = np.repeat(np.arange(n), counts)
    when = timeline.sample(rng, np.repeat(active_from, counts) + 600)
    organic = new_sessions(
        rng,
        people,
        cust,
        when,
        "organic",
        p_add=np.clip(0.26 * people.intent[cust], 0.02, 0.85),
        p_checkout=0.32,
        p_order=0.62,
    )

    new = np.flatnonzero(signed_up_in_window)
    signup = new_sessions(
        rng,
        people,
        new,
        people.created_s[new],
        "signup",
        p_add=0.55,
        p_checkout=0.45,
        p_order=0.8,
        login=LOGIN_AT_SIGNUP,
        popup_open=np.zeros(len(new), dtype=bool),
    )
    signup.slot[:] = 0
    # the account is created after browsing: start the visit so that login lands on created_at
    signup.start_s = people.created_s[new] - signup.n_views * signup.gap_s

    pre_counts = rng.poisson(1.2, len(new))
    pre_cust = np.repeat(new, pre_counts)
    pre_start = (
        people.created_s[pre_cust]
        - (rng.exponential(4.0, len(pre_cust)) * 86_400).astype(np.int64)
        - 3600
    )
    pre = new_sessions(
        rng,
        people,
        pre_cust,
        pre_start,
        "pre_signup",
        p_add=0.12,
        p_checkout=0.0,
        p_order=0.0,
        login=LOGIN_NEVER,
        popup_open=np.ones(len(pre_cust), dtype=bool),
    )
    pre.slot[:] = 0
    keep = pre.start_s >= start
    return Sessions.concat([pre.take(np.flatnonzero(keep)), signup, organic])
