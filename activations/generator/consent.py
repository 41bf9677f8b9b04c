"""Newsletter subscriptions and the append-only consent log.

- Accounts from before the window that opted in come from an ``import`` and
  count as confirmed.
- New accounts tick the box at sign-up (``checkout``) about 35% of the time;
  visitors who are not subscribed see the pop-up, and about 5.5% of those who
  see it submit their email (``popup``; the consent row has no customer_id
  when the account does not exist yet).
- About 70% confirm the double opt-in (a second ``subscribed`` row with
  ``double_opt_in_confirmed_at``); invalid addresses never confirm.
- Unsubscribes, hard bounces and spam complaints come back from the ESP
  (``esp``) and end the subscription for good (see email.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activations.generator.people import People
from activations.generator.sessions import KIND, NEVER, Sessions
from activations.generator.timeline import Timeline

SOURCES = ("popup", "checkout", "import", "esp")
STATUSES = ("subscribed", "unsubscribed", "bounced", "spam_complaint")
CONFIRM_RATE = 0.7


@dataclass
class Subscriptions:
    """Per person: when they subscribed and confirmed (NEVER if not)."""

    subscribed_s: np.ndarray
    confirmed_s: np.ndarray
    source: np.ndarray  # index into SOURCES, -1 when never subscribed
    known_customer: np.ndarray  # bool: the account existed when they subscribed


@dataclass
class ConsentLog:
    cust: np.ndarray
    with_customer: np.ndarray  # bool: customer_id is known on the row
    status: np.ndarray  # index into STATUSES
    source: np.ndarray  # index into SOURCES
    confirmed_s: np.ndarray  # NEVER when not set
    changed_s: np.ndarray


def subscribe(
    rng: np.random.Generator, people: People, sessions: Sessions, timeline: Timeline
) -> Subscriptions:
    """Who subscribes when; shows the pop-up only to people not yet subscribed (in place)."""
    n = len(people)
    pre_window = people.created_s < timeline.start_s
    opt_in = np.where(people.opt_in_at_signup, people.created_s, NEVER)
    # first pop-up submission before any other opt-in
    cand = np.flatnonzero(sessions.popup_submitted & (sessions.start_s < opt_in[sessions.cust]))
    first_submit = np.full(n, NEVER, dtype=np.int64)
    np.minimum.at(first_submit, sessions.cust[cand], sessions.start_s[cand] + 40)
    subscribed = np.minimum(opt_in, first_submit)
    sessions.popup_shown &= sessions.start_s < subscribed[sessions.cust]
    sessions.popup_submitted &= sessions.popup_shown & (
        sessions.start_s + 40 == first_submit[sessions.cust]
    )
    sessions.popup_submitted &= sessions.kind != KIND["signup"]
    # several sessions may share the same start second: keep one
    order = np.flatnonzero(sessions.popup_submitted)
    _, first = np.unique(sessions.cust[order], return_index=True)
    keep = np.zeros(len(sessions), dtype=bool)
    keep[order[first]] = True
    sessions.popup_submitted &= keep

    source = np.where(first_submit < opt_in, 0, np.where(pre_window, 2, 1))
    source = np.where(subscribed >= NEVER, -1, source)
    delay = rng.exponential(1200, n) + np.where(rng.random(n) < 0.2, rng.exponential(86_400, n), 0)
    confirms = (rng.random(n) < CONFIRM_RATE) & people.email_valid
    confirmed = np.where(
        source == 2,
        subscribed,  # imports count as confirmed
        np.where(confirms & (subscribed < NEVER), subscribed + delay.astype(np.int64), NEVER),
    )
    confirmed = np.where(confirmed >= timeline.end_s, NEVER, confirmed)
    return Subscriptions(
        subscribed_s=subscribed,
        confirmed_s=confirmed,
        source=source,
        known_customer=subscribed >= people.created_s,
    )


def consent_log(
    subs: Subscriptions, ended_cust: np.ndarray, ended_status: np.ndarray, ended_s: np.ndarray
) -> ConsentLog:
    """The rows: subscribed, confirmed, and how the subscription ended (from email outcomes)."""
    who = np.flatnonzero(subs.source >= 0)
    conf = who[(subs.confirmed_s[who] < NEVER) & (subs.source[who] != 2)]
    parts = [
        (
            who,
            subs.known_customer[who],
            np.zeros(len(who), dtype=np.int64),
            subs.source[who],
            np.where(subs.source[who] == 2, subs.confirmed_s[who], NEVER),
            subs.subscribed_s[who],
        ),
        (
            conf,
            subs.known_customer[conf] | True,
            np.zeros(len(conf), dtype=np.int64),
            subs.source[conf],
            subs.confirmed_s[conf],
            subs.confirmed_s[conf],
        ),
        (
            ended_cust,
            np.ones(len(ended_cust), dtype=bool),
            ended_status,
            np.full(len(ended_cust), 3),
            np.full(len(ended_cust), NEVER),
            ended_s,
        ),
    ]
    # the confirmation row of a pop-up sign-up before the account existed stays without customer_id
    parts[1] = (conf, subs.known_customer[conf], *parts[1][2:])
    cols = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    return ConsentLog(
        cust=cols[0].astype(np.int64),
        with_customer=cols[1].astype(bool),
        status=cols[2].astype(np.int64),
        source=cols[3].astype(np.int64),
        confirmed_s=cols[4].astype(np.int64),
        changed_s=cols[5].astype(np.int64),
    )
