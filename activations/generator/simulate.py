"""One chunk of customers, simulated end to end into columnar frames.

The order of the steps breaks the loops between behaviour and email:
visits and orders first, then subscriptions, then what the programs send,
then the visits and orders those emails cause.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activations.generator.campaigns import FLOW_INDEX, Campaigns
from activations.generator.catalog import Catalog
from activations.generator.community import (
    Community,
    ProductTests,
    community_rng,
    enrol,
    member_propensities,
    member_visits,
    simulate_community,
)
from activations.generator.consent import ConsentLog, Subscriptions, consent_log, subscribe
from activations.generator.email import (
    COUPON_LOOKAHEAD_DAYS,
    Behaviour,
    Coupons,
    Messages,
    deliver,
    ended_by,
    flow_sends,
    issue_coupons,
    sends_of,
)
from activations.generator.events import EventRows, expand, logins
from activations.generator.orders import (
    SPAN,
    Lookup,
    Orders,
    build_orders,
    cart_subtotals,
    is_purchase,
    lines_per_cart,
    replenish,
    session_lines,
)
from activations.generator.people import People, build_people
from activations.generator.sessions import (
    EMAIL_SOURCE,
    KIND,
    LOGIN_AT_START,
    NEVER,
    Lines,
    Sessions,
    fill_carts,
    new_sessions,
    organic_sessions,
)
from activations.generator.timeline import DAY, Timeline


@dataclass
class Chunk:
    number: int
    people: People
    sessions: Sessions
    lines: Lines
    per_session_lines: np.ndarray
    cart_subtotal: np.ndarray
    orders: Orders
    order_of_session: np.ndarray  # -1 when the session placed no order
    events: EventRows
    identify_session: np.ndarray
    identify_s: np.ndarray
    subscriptions: Subscriptions
    consents: ConsentLog
    messages: Messages
    coupons: Coupons
    coupon_order: np.ndarray  # local order index that redeemed each coupon, or -1
    end_s: int  # the end of the history: nothing (not even a late receipt) happens after it
    community: Community | None = None  # members and their content (generator.community)


def chunk_rng(seed: int, chunk: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0x5E55, chunk])))


def _truncate(sessions: Sessions, lines: Lines, timeline: Timeline) -> np.ndarray:
    """Checkouts and orders that would fall after the end do not happen (in place)."""
    per_cart = lines_per_cart(lines, int(sessions.cart.max(initial=-1)) + 1)
    n = session_lines(sessions, per_cart)
    sessions.order &= sessions.order_s(n) < timeline.end_s
    sessions.checkout &= sessions.checkout_s(n) < timeline.end_s
    return n


def _behaviour(
    sessions: Sessions, lines: Lines, per_lines: np.ndarray, catalog: Catalog
) -> Behaviour:
    s = sessions
    login = s.login_s(per_lines)
    adds_end = s.adds_end_s(per_lines)
    cart = np.flatnonzero(s.adds & ~s.order & (login <= adds_end))
    browse = np.flatnonzero(
        ~s.adds & (s.login == LOGIN_AT_START) & (s.n_views >= 2) & is_purchase(s.kind)
    )
    ordered = np.flatnonzero(s.order & is_purchase(s.kind))
    placed = s.order_s(per_lines)
    n_carts = int(s.cart.max(initial=-1)) + 1
    subtotal = cart_subtotals(lines, catalog, n_carts)
    cart_placed = np.full(n_carts, NEVER, dtype=np.int64)
    cart_cust = np.zeros(n_carts, dtype=np.int64)
    cart_placed[s.cart[ordered]] = placed[ordered]
    cart_cust[s.cart[ordered]] = s.cust[ordered]
    staple = np.flatnonzero(
        catalog.replenishable[lines.product] & ~lines.removed & (cart_placed[lines.cart] < NEVER)
    )
    return Behaviour(
        carts_cust=s.cust[cart],
        carts_id=s.cart[cart],
        carts_s=adds_end[cart],
        browse_cust=s.cust[browse],
        browse_s=s.start_s[browse] + s.n_views[browse] * s.gap_s[browse],
        order_cust=s.cust[ordered],
        order_s=placed[ordered],
        order_subtotal=subtotal[s.cart[ordered]],
        staple_cust=cart_cust[lines.cart[staple]],
        staple_product=lines.product[staple],
        staple_s=cart_placed[lines.cart[staple]],
        staple_cycle=catalog.replenish_cycle_days[lines.product[staple]],
    )


def _orders_without_email(sessions: Sessions, per_lines: np.ndarray) -> Lookup:
    ordered = np.flatnonzero(sessions.order & is_purchase(sessions.kind))
    placed = sessions.order_s(per_lines)[ordered]
    base = int(placed.min(initial=0)) - 1000 * DAY
    return Lookup(sessions.cust[ordered], placed, base)


def _ride_on_organic_orders(
    sessions: Sessions, per_lines: np.ndarray, coupons: Coupons
) -> np.ndarray:
    """Coupons redeemed on an order the person was placing anyway (in place).

    A coupon that will be redeemed goes on the person's first organic order placed
    while it is valid, if there is one (at most one coupon per order): a discount,
    not an extra order. Only the others bring a coupon visit. This keeps the effect
    of coupon emails moderate, as measured against control groups. Returns whether
    each coupon rides on an organic order.
    """
    riding = np.zeros(len(coupons), dtype=bool)
    ordered = np.flatnonzero(sessions.order & is_purchase(sessions.kind) & (sessions.coupon < 0))
    todo = np.flatnonzero(coupons.redeem_s < NEVER)
    if not len(ordered) or not len(todo):
        return riding
    placed = sessions.order_s(per_lines)[ordered]
    base = int(min(placed.min(), coupons.issued_s.min())) - 1
    keys = sessions.cust[ordered].astype(np.int64) * SPAN + (placed - base)
    sort = np.argsort(keys, kind="stable")
    keys, ordered, placed = keys[sort], ordered[sort], placed[sort]
    cust = coupons.cust[todo].astype(np.int64) * SPAN
    idx = np.searchsorted(keys, cust + (coupons.issued_s[todo] - base), side="right")
    hit = idx < len(keys)
    idx = np.minimum(idx, len(keys) - 1)
    hit &= keys[idx] < cust + (coupons.expires_s[todo] - base)
    todo, idx = todo[hit], idx[hit]
    _, first = np.unique(idx, return_index=True)  # one coupon per order
    todo, idx = todo[first], idx[first]
    sessions.coupon[ordered[idx]] = todo
    coupons.redeem_s[todo] = placed[idx]
    riding[todo] = True
    return riding


def _email_sessions(
    rng: np.random.Generator,
    people: People,
    messages: Messages,
    coupons: Coupons,
    riding: np.ndarray,
) -> Sessions:
    """Visits caused by email: clicks (some complete the reminded cart), follow-ups, coupons."""
    m = messages
    clicked = np.flatnonzero(m.clicked_s < NEVER)
    cart = m.sends.cart[clicked]
    # the first click on a cart reminder may bring the person back to complete that cart
    first_click = np.zeros(len(clicked), dtype=bool)
    reminder = np.flatnonzero(cart >= 0)
    if len(reminder):
        order = reminder[np.argsort(m.clicked_s[clicked][reminder], kind="stable")]
        _, first = np.unique(cart[order], return_index=True)
        first_click[order[first]] = True
    returns = first_click & (rng.random(len(clicked)) < 0.45)
    cust = m.sends.cust[clicked]
    start = m.clicked_s[clicked] + 15
    visit = new_sessions(
        rng,
        people,
        cust,
        start,
        "email",
        p_add=0.45,
        p_checkout=0.55,
        p_order=0.8,
        login=LOGIN_AT_START,
        source=EMAIL_SOURCE,
    )
    visit.campaign[:] = m.sends.campaign[clicked]
    visit.variant[:] = m.variant[clicked]
    ret = np.flatnonzero(returns)
    visit.kind[ret] = KIND["cart_return"]
    visit.n_views[ret] = 0
    visit.adds[ret] = False
    visit.cart[ret] = cart[ret]
    visit.cart_viewed[ret] = True
    visit.checkout[ret] = True
    visit.order[ret] = True
    visit.chatbot[ret] = False
    visit.chatbot_resolved[ret] = False

    # some clickers come back directly within a few days and buy
    later = np.flatnonzero(~returns & (rng.random(len(clicked)) < 0.1))
    follow = new_sessions(
        rng,
        people,
        cust[later],
        start[later] + (rng.exponential(1.5, len(later)) * DAY).astype(np.int64),
        "email",
        p_add=1.0,
        p_checkout=1.0,
        p_order=1.0,
        login=LOGIN_AT_START,
        source=0,
    )

    red = np.flatnonzero((coupons.redeem_s < NEVER) & ~riding)
    redeem = new_sessions(
        rng,
        people,
        coupons.cust[red],
        coupons.redeem_s[red],
        "coupon",
        p_add=1.0,
        p_checkout=1.0,
        p_order=1.0,
        login=LOGIN_AT_START,
    )
    redeem.coupon[:] = red
    return Sessions.concat([visit, follow, redeem])


def simulate_chunk(
    seed: int,
    chunk: int,
    first_number: int,
    n: int,
    timeline: Timeline,
    catalog: Catalog,
    campaigns: Campaigns,
    product_tests: ProductTests | None = None,
) -> Chunk:
    rng = chunk_rng(seed, chunk)
    people = build_people(rng, first_number, n, timeline, int(catalog.subcategory_index.max()) + 1)
    # the community: who is a member, and what being one does to opening and buying
    crng = community_rng(seed, chunk)
    membership = enrol(crng, people, timeline)
    people = member_propensities(crng, people, membership)

    sessions = organic_sessions(rng, people, timeline)
    sessions = Sessions.concat([sessions, member_visits(crng, people, membership, timeline)])
    subs = subscribe(rng, people, sessions, timeline)
    lines = fill_carts(rng, sessions, people, catalog, 0)
    _truncate(sessions, lines, timeline)
    sessions, lines = replenish(rng, sessions, lines, people, catalog, timeline)
    per_lines = _truncate(sessions, lines, timeline)

    behaviour = _behaviour(sessions, lines, per_lines, catalog)
    messages = deliver(
        rng,
        flow_sends(rng, people, subs, behaviour, campaigns, timeline),
        people,
        subs,
        campaigns,
        timeline,
    )
    ended_cust, ended_status, ended_s = ended_by(messages, len(people))
    coupons = issue_coupons(rng, messages, timeline, _orders_without_email(sessions, per_lines))
    riding = _ride_on_organic_orders(sessions, per_lines, coupons)
    # reminders three days before unredeemed coupons expire (these never end a subscription);
    # coupons still open at the end are inside the coupon audience's lookahead: the product's
    remind = coupons.expires_s - COUPON_LOOKAHEAD_DAYS * DAY
    todo = np.flatnonzero(
        (remind < coupons.redeem_s)
        & (coupons.expires_s <= timeline.end_s)
        & (remind > coupons.issued_s)
    )
    ended_at = np.full(len(people), NEVER, dtype=np.int64)
    ended_at[ended_cust] = ended_s
    reminders = deliver(
        rng,
        sends_of(campaigns, FLOW_INDEX["coupon_expiring"], coupons.cust[todo], remind[todo]),
        people,
        subs,
        campaigns,
        timeline,
        may_end=False,
        ended_before=ended_at,
    )
    messages = Messages.concat([messages, reminders])
    consents = consent_log(subs, ended_cust, ended_status, ended_s)

    n_carts = int(sessions.cart.max(initial=-1)) + 1
    caused = _email_sessions(rng, people, messages, coupons, riding)
    more_lines = fill_carts(rng, caused, people, catalog, n_carts)
    sessions = Sessions.concat([sessions, caused])
    lines = Lines.concat([lines, more_lines])
    per_lines = _truncate(sessions, lines, timeline)
    # a coupon counts as redeemed only if its order happened
    orders = build_orders(rng, sessions, lines, catalog, coupons.value, coupons.percent, timeline)
    order_of_session = np.full(len(sessions), -1, dtype=np.int64)
    order_of_session[orders.session] = np.arange(len(orders))
    coupon_order = np.full(len(coupons), -1, dtype=np.int64)
    used = np.flatnonzero(orders.coupon >= 0)
    coupon_order[orders.coupon[used]] = used

    events = expand(rng, sessions, lines, people, catalog, per_lines, timeline)
    community = (
        None
        if product_tests is None
        else simulate_community(
            crng, people, membership, product_tests, catalog, sessions, lines,
            orders.session, orders.placed_s, timeline,
        )
    )  # fmt: skip
    identify_session, identify_s = logins(sessions, per_lines, timeline)
    return Chunk(
        number=chunk,
        people=people,
        sessions=sessions,
        lines=lines,
        per_session_lines=per_lines,
        cart_subtotal=cart_subtotals(lines, catalog, int(sessions.cart.max(initial=-1)) + 1),
        orders=orders,
        order_of_session=order_of_session,
        events=events,
        identify_session=identify_session,
        identify_s=identify_s,
        subscriptions=subs,
        consents=consents,
        messages=messages,
        coupons=coupons,
        coupon_order=coupon_order,
        end_s=timeline.end_s,
        community=community,
    )
