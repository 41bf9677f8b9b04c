"""The brand community: members, their posts, reviews, answers and reactions,
product tests and the loyalty points ledger (source ``community`` in ``raw``).

Who joins, and what joining does (the rest of the generator reads this):

- about 15-20% of customers are members; people with more purchase intent
  join a little more often (selection, which a fair comparison must undo);
- engagement is heavy-tailed (gamma, shape 0.35): most members are quiet, a
  few post, answer and react a lot; each member's content has a quality that
  draws the other members' reactions, so a few contributors collect most of
  them (the ambassadors);
- the causal effect, real and moderate: once they have joined, members visit
  the shop more often (``member_visits``: extra visits at 15-60% of their own
  visit rate, more for the engaged, with their usual purchase intent) and open
  more of their email (``member_propensities``: open propensity x 1.3; more
  of them also subscribe to the newsletter). The
  open propensity is a trait of the person, so members who join during the
  window have it from the start of the window;
- content lands only inside the simulated window (like orders): a member who
  joined before it has their welcome points at ``joined_at`` and everything
  else from the window's start. Reviews are often of products the member
  bought in the window, written a few days after the order;
- product tests are the shop's (the same for every chunk): one opens every
  three weeks for 14 days, the last one still open at ``end``, so the
  product-test audience has a test to recruit for; applicants are selected at
  the close (about 40%, at least the most engaged applicant), most selected
  testers report within two weeks;
- points: 100 welcome, 20 per review, 10 per other post, 5 per answer, 50 per
  product-test report; some members redeem part of what they earned (never
  more than their balance).

Everything is vectorised and drawn from a random generator of its own per
chunk (``community_rng``), so the same seed gives the same community.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pyarrow as pa

from activations.generator.catalog import Catalog
from activations.generator.ids import numbered
from activations.generator.people import People
from activations.generator.sessions import NEVER, Lines, Sessions, new_sessions
from activations.generator.timeline import DAY, Timeline
from activations.warehouse.raw_schema import RAW_SCHEMA, RAW_TABLES

MEMBER_STATUSES = ("active", "banned", "left")
POST_KINDS = ("review", "question", "photo", "discussion")
# what a post is (answers come per question: ANSWERS_PER_QUESTION on average)
CONTRIBUTION_WEIGHT = np.array([0.5, 0.2, 0.16, 0.14])
ANSWER = len(POST_KINDS)  # the kind code of an answer among contributions
ANSWERS_PER_QUESTION = 1.3
POINTS = {"welcome": 100, "review": 20, "post": 10, "answer": 5, "product_test": 50}
REACTIONS = ("like", "helpful")
APPLICATION_STATUSES = ("applied", "selected", "not_selected")
# posts and reactions per member-day at engagement 1 (the mean)
CONTRIBUTION_RATE = 0.045
REACTION_RATE = 0.08
OPEN_BOOST = 1.3
MEMBER_OPT_IN = 0.3  # members who did not tick the newsletter box get a second chance
TEST_EVERY_DAYS = 21
TEST_OPEN_DAYS = 14
LOCAL_LIMIT = 10_000_000  # ids are chunk * LOCAL_LIMIT + local number, as in the writer


def community_rng(seed: int, chunk: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0xC0AA, chunk])))


# ---------------------------------------------------------------- membership


@dataclass(frozen=True)
class Membership:
    """Per person of the chunk; ``joined_s`` is NEVER for non-members."""

    joined_s: np.ndarray
    engagement: np.ndarray  # 0 for non-members; mean 1 over members
    quality: np.ndarray  # 0..1, how much others value their content
    status: np.ndarray  # index into MEMBER_STATUSES
    stopped_s: np.ndarray  # when a banned / left member stopped, else NEVER

    @property
    def is_member(self) -> np.ndarray:
        return self.joined_s < NEVER

    def active_until(self, end_s: int) -> np.ndarray:
        return np.minimum(self.stopped_s, end_s)


def enrol(rng: np.random.Generator, people: People, timeline: Timeline) -> Membership:
    n = len(people)
    share = np.clip(0.12 + 0.1 * people.intent, 0.0, 0.6)
    joins = rng.random(n) < share
    # people join some time after creating their account (weeks to a year)
    joined = people.created_s + (rng.exponential(120, n) * DAY).astype(np.int64) + 3600
    joins &= joined < timeline.end_s - 3600
    joined = np.where(joins, joined, NEVER)
    engagement = np.where(joins, rng.gamma(0.25, 1 / 0.25, n), 0.0)
    quality = np.where(joins, rng.beta(2.0, 2.5, n), 0.0)
    roll = rng.random(n)
    status = np.where(joins & (roll < 0.01), 1, np.where(joins & (roll < 0.03), 2, 0))
    stop_from = np.maximum(joined, timeline.start_s)
    span = np.maximum(timeline.end_s - 1 - stop_from, 1)
    stopped = np.where(status > 0, stop_from + (rng.random(n) * span).astype(np.int64), NEVER)
    return Membership(joined, engagement, quality, status.astype(np.int64), stopped)


def member_propensities(rng: np.random.Generator, people: People, membership: Membership) -> People:
    """Members open more of their email (a trait of the person: see the module doc), and
    more of them tick the newsletter box (the community asks them to)."""
    member = membership.is_member
    boosted = np.where(
        member, np.minimum(people.open_propensity * OPEN_BOOST, 0.95), people.open_propensity
    )
    opt_in = people.opt_in_at_signup | (member & (rng.random(len(people)) < MEMBER_OPT_IN))
    return replace(people, open_propensity=boosted, opt_in_at_signup=opt_in)


def member_visits(
    rng: np.random.Generator, people: People, membership: Membership, timeline: Timeline
) -> Sessions:
    """Extra shop visits of members after they joined: the community's effect on buying."""
    member = np.flatnonzero(membership.is_member)
    start = np.maximum(
        np.maximum(membership.joined_s[member], people.created_s[member]), timeline.start_s
    )
    stop = membership.active_until(timeline.end_s)[member]
    days = np.maximum(stop - start, 0) / DAY
    uplift = 0.25 + 0.15 * np.minimum(membership.engagement[member], 3.0)
    counts = rng.poisson(people.visit_rate[member] * uplift * days)
    cust = np.repeat(member, counts)
    lo = np.repeat(start, counts)
    span = np.repeat(stop - start, counts)
    when = lo + 600 + (rng.random(len(cust)) * np.maximum(span - 1200, 1)).astype(np.int64)
    return new_sessions(
        rng,
        people,
        cust,
        when,
        "organic",
        p_add=np.clip(0.26 * people.intent[cust], 0.02, 0.85),
        p_checkout=0.32,
        p_order=0.62,
    )


# ---------------------------------------------------------------- product tests


@dataclass(frozen=True)
class ProductTests:
    product: np.ndarray  # catalogue index
    places: np.ndarray
    open_s: np.ndarray
    close_s: np.ndarray

    def __len__(self) -> int:
        return len(self.product)


def build_product_tests(seed: int, timeline: Timeline, catalog: Catalog) -> ProductTests:
    """The shop's product tests: the same for every chunk; the latest is open at ``end``."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0x7E57])))
    first_open = timeline.end_s - 5 * DAY
    opens = []
    moment = first_open
    while moment >= timeline.start_s - TEST_OPEN_DAYS * DAY or not opens:
        opens.append(moment)
        moment -= TEST_EVERY_DAYS * DAY
    open_s = np.array(sorted(opens), dtype=np.int64)
    in_stock = np.flatnonzero(catalog.in_stock)
    product = rng.choice(in_stock, len(open_s), replace=False)
    return ProductTests(
        product=product.astype(np.int64),
        places=rng.choice([20, 30, 50], len(open_s)).astype(np.int64),
        open_s=open_s,
        close_s=open_s + TEST_OPEN_DAYS * DAY,
    )


# ---------------------------------------------------------------- activity


@dataclass
class Community:
    """One chunk's community, as columns (indices are local to the chunk)."""

    member: np.ndarray  # local person index of each member
    membership: Membership
    # posts
    post_author: np.ndarray
    post_kind: np.ndarray  # index into POST_KINDS
    post_product: np.ndarray  # catalogue index or -1
    post_rating: np.ndarray  # 1..5, 0 when not a review
    post_words: np.ndarray
    post_removed: np.ndarray
    post_s: np.ndarray
    # answers
    answer_author: np.ndarray
    answer_post: np.ndarray  # local post index of the question
    answer_words: np.ndarray
    answer_accepted: np.ndarray
    answer_removed: np.ndarray
    answer_s: np.ndarray
    # reactions
    reaction_author: np.ndarray
    reaction_on_answer: np.ndarray  # bool: target is an answer, else a post
    reaction_target: np.ndarray  # local post or answer index
    reaction_helpful: np.ndarray
    reaction_s: np.ndarray
    # product tests
    application_author: np.ndarray
    application_test: np.ndarray
    application_status: np.ndarray  # index into APPLICATION_STATUSES
    application_s: np.ndarray
    decided_s: np.ndarray  # NEVER while applied
    result_application: np.ndarray  # local application index
    result_rating: np.ndarray
    result_recommend: np.ndarray
    result_words: np.ndarray
    result_s: np.ndarray
    # points ledger
    points_author: np.ndarray
    points: np.ndarray
    points_reason: np.ndarray  # index into POINTS_REASONS
    points_reference: np.ndarray  # 0 none, 1 post, 2 answer, 3 result
    points_reference_index: np.ndarray
    points_s: np.ndarray


POINTS_REASONS = ("welcome", "post", "review", "answer", "product_test", "redemption")


def _bought(
    sessions: Sessions, lines: Lines, placed_s: np.ndarray, order_session: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person, product, placed_s) of every ordered, kept line, sorted by person."""
    n_carts = int(sessions.cart.max(initial=-1)) + 1
    cart_placed = np.full(max(n_carts, 1), NEVER, dtype=np.int64)
    cart_cust = np.zeros(max(n_carts, 1), dtype=np.int64)
    carts = sessions.cart[order_session]
    cart_placed[carts] = placed_s
    cart_cust[carts] = sessions.cust[order_session]
    keep = np.flatnonzero(~lines.removed & (cart_placed[lines.cart] < NEVER)) if len(lines) else []
    cust = cart_cust[lines.cart[keep]]
    sort = np.argsort(cust, kind="stable")
    return cust[sort], lines.product[keep][sort], cart_placed[lines.cart[keep]][sort]


def _moments(
    rng: np.random.Generator, timeline: Timeline, start: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """A traffic-weighted moment in [start, stop) for each entry (start < stop)."""
    when = timeline.sample(rng, start)
    late = when >= stop
    when[late] = start[late] + (rng.random(int(late.sum())) * (stop - start)[late]).astype(np.int64)
    return when


def _pick_before(
    rng: np.random.Generator, created: np.ndarray, weight: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """For each moment in ``at``, a target created before it, drawn by weight; -1 if none.

    ``created`` must be sorted."""
    if not len(created):
        return np.full(len(at), -1, dtype=np.int64)
    cumulative = np.cumsum(weight)
    available = np.searchsorted(created, at, side="left")
    total = np.where(available > 0, cumulative[np.maximum(available - 1, 0)], 0.0)
    pick = np.searchsorted(cumulative, rng.random(len(at)) * total, side="right")
    return np.where(available > 0, np.minimum(pick, np.maximum(available - 1, 0)), -1)


def simulate_community(
    rng: np.random.Generator,
    people: People,
    membership: Membership,
    tests: ProductTests,
    catalog: Catalog,
    sessions: Sessions,
    lines: Lines,
    order_session: np.ndarray,
    order_placed_s: np.ndarray,
    timeline: Timeline,
) -> Community:
    member = np.flatnonzero(membership.is_member)
    m = membership
    start = np.maximum(m.joined_s[member], timeline.start_s)
    stop = m.active_until(timeline.end_s)[member]
    days = np.maximum(stop - start, 0) / DAY

    # ---- contributions: posts and answers
    n_contrib = rng.poisson(m.engagement[member] * CONTRIBUTION_RATE * days)
    author = np.repeat(member, n_contrib)
    when = _moments(rng, timeline, np.repeat(start, n_contrib), np.repeat(stop, n_contrib))
    kind = rng.choice(len(CONTRIBUTION_WEIGHT), len(author), p=CONTRIBUTION_WEIGHT)

    # reviews: mostly a product the person bought in the window, a few days after the order
    product = np.full(len(author), -1, dtype=np.int64)
    fav = people.favourite_subcategories[author, rng.integers(0, 3, len(author))]
    sub_sorted = np.argsort(catalog.subcategory_index, kind="stable")
    lo = np.searchsorted(catalog.subcategory_index[sub_sorted], fav, side="left")
    hi = np.searchsorted(catalog.subcategory_index[sub_sorted], fav, side="right")
    favourite = sub_sorted[lo + (rng.random(len(author)) * (hi - lo)).astype(np.int64)]
    with_product = (kind == 0) | ((kind == 1) & (rng.random(len(author)) < 0.7))
    with_product |= (kind == 2) & (rng.random(len(author)) < 0.8)
    product[with_product] = favourite[with_product]
    b_cust, b_product, b_placed = _bought(sessions, lines, order_placed_s, order_session)
    reviews = np.flatnonzero(kind == 0)
    if len(b_cust) and len(reviews):
        first = np.searchsorted(b_cust, author[reviews], side="left")
        count = np.searchsorted(b_cust, author[reviews], side="right") - first
        has = count > 0
        idx = first + (rng.random(len(reviews)) * np.maximum(count, 1)).astype(np.int64)
        idx = np.minimum(idx, len(b_cust) - 1)
        written = b_placed[idx] + (2 * DAY + rng.exponential(6 * DAY, len(reviews))).astype(
            np.int64
        )
        ok = has & (written < stop[np.searchsorted(member, author[reviews])])
        ok &= written > m.joined_s[author[reviews]]
        product[reviews[ok]] = b_product[idx[ok]]
        when[reviews[ok]] = written[ok]
    rating = np.zeros(len(author), dtype=np.int64)
    stars = rng.choice([5, 4, 3, 2, 1], len(author), p=[0.48, 0.3, 0.11, 0.06, 0.05])
    rating[kind == 0] = stars[kind == 0]
    words = (rng.lognormal(3.6, 0.7, len(author)) + 3).astype(np.int64)
    banned = m.status[author] == 1
    removed = rng.random(len(author)) < np.where(banned, 0.3, 0.02)

    posts = np.arange(len(author))
    posts = posts[np.argsort(when[posts], kind="stable")]
    post_s = when[posts]
    post_kind = kind[posts]

    # answers: each question gets a few, from other members (the engaged more often),
    # within days, while the answerer is a member in good standing
    questions = np.flatnonzero(post_kind == 1)
    n_answers = rng.poisson(ANSWERS_PER_QUESTION, len(questions))
    target = np.repeat(questions, n_answers)
    pool = m.engagement[member]
    answer_author = (
        rng.choice(member, len(target), p=pool / pool.sum())
        if len(target) and pool.sum() > 0
        else np.zeros(0, dtype=np.int64)
    )
    answer_s = post_s[target] + 600 + (rng.exponential(1.5, len(target)) * DAY).astype(np.int64)
    slot = np.searchsorted(member, answer_author)
    ok = (answer_author != author[posts][target]) & (answer_s < stop[slot])
    ok &= answer_s >= start[slot]
    target, answer_author, answer_s = target[ok], answer_author[ok], answer_s[ok]
    sort = np.argsort(answer_s, kind="stable")
    target, answer_author, answer_s = target[sort], answer_author[sort], answer_s[sort]
    answers = np.arange(len(target))
    answer_words = (rng.lognormal(3.3, 0.6, len(target)) + 3).astype(np.int64)
    answer_removed = rng.random(len(target)) < np.where(m.status[answer_author] == 1, 0.3, 0.02)
    accepted = np.zeros(len(answers), dtype=bool)
    _, first_answer = np.unique(target, return_index=True)
    accepted[first_answer] = rng.random(len(first_answer)) < 0.4

    # ---- reactions: to content created before, drawn towards valued authors
    n_react = rng.poisson(m.engagement[member] * REACTION_RATE * days)
    r_author = np.repeat(member, n_react)
    r_s = _moments(rng, timeline, np.repeat(start, n_react), np.repeat(stop, n_react))
    content_s = np.concatenate([post_s, answer_s])
    content_author = np.concatenate([author[posts], answer_author])
    content_removed = np.concatenate([removed[posts], answer_removed])
    content_kind = np.concatenate([post_kind, np.full(len(answers), ANSWER)])
    order = np.argsort(content_s, kind="stable")
    weight = (0.05 + m.quality[content_author] ** 3) * np.where(content_kind == 3, 0.5, 1.0)
    weight = weight * ~content_removed
    pick = _pick_before(rng, content_s[order], weight[order], r_s)
    ok = pick >= 0
    r_author, r_s, pick = r_author[ok], r_s[ok], order[pick[ok]]
    ok = content_author[pick] != r_author
    r_author, r_s, pick = r_author[ok], r_s[ok], pick[ok]
    on_answer = pick >= len(posts)
    r_target = np.where(on_answer, pick - len(posts), pick)
    helpful = rng.random(len(pick)) < np.where(content_kind[pick] == 0, 0.5, 0.3)

    # ---- product tests: applications, selection at the close, reports
    t_member = np.repeat(member, len(tests))
    t_test = np.tile(np.arange(len(tests)), len(member))
    t_start = np.maximum(np.repeat(start, len(tests)), tests.open_s[t_test])
    t_stop = np.minimum(np.repeat(stop, len(tests)), tests.close_s[t_test])
    p_apply = np.clip(0.05 + 0.15 * np.minimum(m.engagement[t_member], 3.0), 0.0, 0.6)
    applies = (t_start < t_stop) & (rng.random(len(t_member)) < p_apply)
    a_author, a_test = t_member[applies], t_test[applies]
    a_s = _moments(rng, timeline, t_start[applies], t_stop[applies])
    decided = tests.close_s[a_test] < timeline.end_s
    selected = decided & (rng.random(len(a_author)) < 0.4)
    # every decided test selects at least its most engaged applicant
    by_test = np.lexsort((-m.engagement[a_author], a_test))
    _, first = np.unique(a_test[by_test], return_index=True)
    selected[by_test[first]] |= decided[by_test[first]]
    a_status = np.where(decided, np.where(selected, 1, 2), 0)
    decided_s = np.where(decided, tests.close_s[a_test] + 3600, NEVER)
    res_s = tests.close_s[a_test] + (5 * DAY + rng.exponential(4 * DAY, len(a_author))).astype(
        np.int64
    )
    reports = np.flatnonzero(
        selected & (rng.random(len(a_author)) < 0.85) & (res_s < timeline.end_s)
    )
    res_rating = rng.choice([5, 4, 3, 2], len(reports), p=[0.4, 0.35, 0.17, 0.08])
    res_recommend = (res_rating >= 4) & (rng.random(len(reports)) < 0.9)
    res_words = (rng.lognormal(4.2, 0.5, len(reports)) + 10).astype(np.int64)

    # ---- points: welcome, content, reports; then some redeem part of what they earned
    p_author = [member, author[posts], answer_author, a_author[reports]]
    p_points = [
        np.full(len(member), POINTS["welcome"]),
        np.where(post_kind == 0, POINTS["review"], POINTS["post"]),
        np.full(len(answers), POINTS["answer"]),
        np.full(len(reports), POINTS["product_test"]),
    ]
    p_reason = [
        np.zeros(len(member)),
        np.where(post_kind == 0, 2, 1),
        np.full(len(answers), 3),
        np.full(len(reports), 4),
    ]
    p_ref = [np.zeros(len(member)), np.ones(len(posts)), np.full(len(answers), 2),
             np.full(len(reports), 3)]  # fmt: skip
    p_ref_idx = [
        np.zeros(len(member)), np.arange(len(posts)), np.arange(len(answers)),
        np.arange(len(reports)),
    ]  # fmt: skip
    p_s = [m.joined_s[member], post_s, answer_s, res_s[reports]]
    keep_content = [np.ones(len(member), bool), ~removed[posts], ~answer_removed,
                    np.ones(len(reports), bool)]  # fmt: skip
    cols = [
        np.concatenate([a[k] for a, k in zip(parts, keep_content, strict=True)])
        for parts in (p_author, p_points, p_reason, p_ref, p_ref_idx, p_s)
    ]
    pa_author, pa_points, pa_reason, pa_ref, pa_ref_idx, pa_s = cols
    earned = np.bincount(pa_author, weights=pa_points, minlength=len(people))
    last = np.zeros(len(people), dtype=np.int64)
    np.maximum.at(last, pa_author.astype(np.int64), pa_s.astype(np.int64))
    redeem_s = last + (rng.exponential(10, len(people)) * DAY).astype(np.int64)
    redeemers = np.flatnonzero(
        membership.is_member
        & (earned >= 200)
        & (rng.random(len(people)) < 0.4)
        & (redeem_s < m.active_until(timeline.end_s))
    )
    redeemed = -100 * np.floor(earned[redeemers] / 200).astype(np.int64)
    return Community(
        member=member,
        membership=membership,
        post_author=author[posts],
        post_kind=post_kind,
        post_product=product[posts],
        post_rating=rating[posts],
        post_words=words[posts],
        post_removed=removed[posts],
        post_s=post_s,
        answer_author=answer_author,
        answer_post=target,
        answer_words=answer_words,
        answer_accepted=accepted,
        answer_removed=answer_removed,
        answer_s=answer_s,
        reaction_author=r_author,
        reaction_on_answer=on_answer,
        reaction_target=r_target,
        reaction_helpful=helpful,
        reaction_s=r_s,
        application_author=a_author,
        application_test=a_test,
        application_status=a_status,
        application_s=a_s,
        decided_s=decided_s,
        result_application=reports,
        result_rating=res_rating,
        result_recommend=res_recommend,
        result_words=res_words,
        result_s=res_s[reports],
        points_author=np.concatenate([pa_author, redeemers]).astype(np.int64),
        points=np.concatenate([pa_points, redeemed]).astype(np.int64),
        points_reason=np.concatenate([pa_reason, np.full(len(redeemers), 5)]).astype(np.int64),
        points_reference=np.concatenate([pa_ref, np.zeros(len(redeemers))]).astype(np.int64),
        points_reference_index=np.concatenate([pa_ref_idx, np.zeros(len(redeemers))]).astype(
            np.int64
        ),
        points_s=np.concatenate([pa_s, redeem_s[redeemers]]).astype(np.int64),
    )


# ---------------------------------------------------------------- writing


def _ts(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    values = np.asarray(seconds, dtype=np.int64)
    mask = None if valid is None else ~valid
    if mask is not None:
        values = np.where(mask, 0, values)
    return pa.array(values, pa.int64(), mask=mask).cast(pa.timestamp("s"))


def _labels(codes: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes, dtype=np.int32)), pa.array(list(labels), pa.string())
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pa.Table) -> None:
    """``frame`` holds the table's columns, in order and already typed as Arrow allows."""
    cols = RAW_TABLES[table]
    names = ", ".join(f'"{c}"' for c, _ in cols)
    select = ", ".join(f'cast("{c}" as {t})' for c, t in cols)
    con.register("community_frame", frame)
    try:
        con.execute(
            f"insert into {RAW_SCHEMA}.{table} ({names}) select {select} from community_frame"
        )
    finally:
        with contextlib.suppress(duckdb.Error):
            con.unregister("community_frame")


def _product_ids(catalog: Catalog, index: np.ndarray) -> pa.Array:
    index = np.asarray(index, dtype=np.int64)
    return pa.array(
        np.where(index >= 0, catalog.product_id[np.maximum(index, 0)], None), pa.string()
    )


def test_ids(count: int) -> pa.Array:
    return numbered("ptest_", np.arange(count) + 1, 4)


def write_product_tests(
    con: duckdb.DuckDBPyConnection, tests: ProductTests, catalog: Catalog
) -> None:
    names = [f"Test it first: {catalog.name[p]}" for p in tests.product]
    _insert(
        con,
        "product_tests",
        pa.table(
            {
                "product_test_id": test_ids(len(tests)),
                "product_id": _product_ids(catalog, tests.product),
                "title": pa.array(names, pa.string()),
                "places": pa.array(tests.places, pa.int32()),
                "applications_open_at": _ts(tests.open_s),
                "applications_close_at": _ts(tests.close_s),
            }
        ),
    )


def write_community(
    con: duckdb.DuckDBPyConnection,
    chunk_number: int,
    people: People,
    community: Community,
    catalog: Catalog,
    n_tests: int,
) -> None:
    c, m = community, community.membership
    base = chunk_number * LOCAL_LIMIT
    for n_local in (len(c.post_s), len(c.answer_s), len(c.reaction_s), len(c.points_s)):
        if n_local >= LOCAL_LIMIT:
            raise ValueError("a chunk holds too much community content: lower chunk_customers")
    number = people.number
    member_ids = numbered("mem_", number, 8)
    customer_ids = numbered("cus_", number, 8)
    names = np.array(
        [f"{f}{n % 1000:03d}" for f, n in zip(people.first_name, number, strict=True)],
        dtype=object,
    )
    mem = c.member
    _insert(
        con,
        "members",
        pa.table(
            {
                "member_id": member_ids.take(pa.array(mem)),
                "customer_id": customer_ids.take(pa.array(mem)),
                "display_name": pa.array(names[mem], pa.string()),
                "status": _labels(m.status[mem], MEMBER_STATUSES),
                "joined_at": _ts(m.joined_s[mem]),
                "updated_at": _ts(np.where(m.status[mem] > 0, m.stopped_s[mem], m.joined_s[mem])),
            }
        ),
    )
    post_ids = numbered("pst_", base + np.arange(len(c.post_s)) + 1, 11)
    product_names = np.where(
        c.post_product >= 0, catalog.name[np.maximum(c.post_product, 0)], "our shop"
    )
    prefix = np.array(["Review: ", "Question about ", "Photo: ", "Tip: "], dtype=object)
    titles = prefix[c.post_kind] + product_names.astype(object)
    _insert(
        con,
        "posts",
        pa.table(
            {
                "post_id": post_ids,
                "member_id": member_ids.take(pa.array(c.post_author)),
                "kind": _labels(c.post_kind, POST_KINDS),
                "product_id": _product_ids(catalog, c.post_product),
                "rating": pa.array(c.post_rating, pa.int32(), mask=c.post_kind != 0),
                "title": pa.array(titles, pa.string()),
                "word_count": pa.array(c.post_words, pa.int32()),
                "status": _labels(c.post_removed.astype(np.int64), ("published", "removed")),
                "created_at": _ts(c.post_s),
            }
        ),
    )
    answer_ids = numbered("ans_", base + np.arange(len(c.answer_s)) + 1, 11)
    _insert(
        con,
        "answers",
        pa.table(
            {
                "answer_id": answer_ids,
                "post_id": post_ids.take(pa.array(c.answer_post)),
                "member_id": member_ids.take(pa.array(c.answer_author)),
                "word_count": pa.array(c.answer_words, pa.int32()),
                "is_accepted": pa.array(c.answer_accepted, pa.bool_()),
                "status": _labels(c.answer_removed.astype(np.int64), ("published", "removed")),
                "created_at": _ts(c.answer_s),
            }
        ),
    )
    n_r = len(c.reaction_s)
    # posts, answers and results in one id array: a target or reference is an offset into it
    content_ids = pa.concat_arrays([post_ids, answer_ids])
    target = np.where(c.reaction_on_answer, len(c.post_s) + c.reaction_target, c.reaction_target)
    _insert(
        con,
        "reactions",
        pa.table(
            {
                "reaction_id": numbered("rct_", base + np.arange(n_r) + 1, 11),
                "member_id": member_ids.take(pa.array(c.reaction_author)),
                "target_type": _labels(c.reaction_on_answer.astype(np.int64), ("post", "answer")),
                "target_id": content_ids.take(pa.array(target, pa.int64())),
                "reaction": _labels(c.reaction_helpful.astype(np.int64), REACTIONS),
                "created_at": _ts(c.reaction_s),
            }
        ),
    )
    tests = test_ids(n_tests)
    application_ids = numbered("app_", base + np.arange(len(c.application_s)) + 1, 11)
    _insert(
        con,
        "product_test_applications",
        pa.table(
            {
                "application_id": application_ids,
                "product_test_id": tests.take(pa.array(c.application_test)),
                "member_id": member_ids.take(pa.array(c.application_author)),
                "status": _labels(c.application_status, APPLICATION_STATUSES),
                "applied_at": _ts(c.application_s),
                "decided_at": _ts(c.decided_s, c.decided_s < NEVER),
            }
        ),
    )
    result_ids = numbered("res_", base + np.arange(len(c.result_s)) + 1, 11)
    app = c.result_application
    _insert(
        con,
        "product_test_results",
        pa.table(
            {
                "result_id": result_ids,
                "application_id": application_ids.take(pa.array(app)),
                "product_test_id": tests.take(pa.array(c.application_test[app])),
                "member_id": member_ids.take(pa.array(c.application_author[app])),
                "rating": pa.array(c.result_rating, pa.int32()),
                "would_recommend": pa.array(c.result_recommend, pa.bool_()),
                "word_count": pa.array(c.result_words, pa.int32()),
                "submitted_at": _ts(c.result_s),
            }
        ),
    )
    referable = pa.concat_arrays([post_ids, answer_ids, result_ids])
    offset = np.array([0, 0, len(c.post_s), len(c.post_s) + len(c.answer_s)])
    ref = c.points_reference
    reference = referable.take(
        pa.array(offset[ref] + c.points_reference_index, pa.int64(), mask=ref == 0)
    )
    _insert(
        con,
        "point_movements",
        pa.table(
            {
                "movement_id": numbered("pts_", base + np.arange(len(c.points_s)) + 1, 11),
                "member_id": member_ids.take(pa.array(c.points_author)),
                "points": pa.array(c.points, pa.int32()),
                "reason": _labels(c.points_reason, POINTS_REASONS),
                "reference_id": reference,
                "occurred_at": _ts(c.points_s),
            }
        ),
    )
