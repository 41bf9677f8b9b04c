"""The SMS side of the synthetic shop: phones as people really type them, and
SMS marketing consent (the consent log's ``channel = 'sms'`` rows).

- Phones: about half as given (``+49 170 1234567``); the rest with the ``00``
  prefix, in national format (``0170 1234567``, valid only with the country as
  the default region), with dashes and brackets, without any separator; about
  4% hold letters (``call me``) and 4% are too short to be a number.
- SMS consent: about 45% of people with a phone tick the SMS box at sign-up
  (``checkout``, a minute after the account was created); SMS needs no
  double opt-in (the ``subscribed`` row is its own confirmation). About 12% of
  them later answer STOP (``unsubscribed``, source ``esp``: the SMS provider's
  feedback), some time after.

Both draw from random streams of their own (``Writer._rng`` purposes 20 and
21), so adding them changed no other table of a seeded shop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMS_OPT_IN_RATE = 0.45
SMS_STOP_RATE = 0.12
#: countries whose national format puts a trunk 0 before the mobile prefix
TRUNK_ZERO = frozenset({"DE", "AT", "NL", "FR", "GB", "SK"})


def messy_phones(rng: np.random.Generator, phone: np.ndarray, country: np.ndarray) -> np.ndarray:
    """``phone`` (``+CC rest``, or None) as typed by people of ``country``."""
    out = phone.copy()
    style = rng.choice(7, len(phone), p=[0.5, 0.12, 0.14, 0.08, 0.08, 0.04, 0.04])
    for i, (p, c, s) in enumerate(zip(phone, country, style, strict=True)):
        if p is None or s == 0:
            continue
        code, _, rest = p.partition(" ")
        if s == 1:  # 00 instead of +
            out[i] = "00" + p[1:]
        elif s == 2:  # national format
            out[i] = ("0" if c in TRUNK_ZERO else "") + rest
        elif s == 3:  # dashes and brackets
            digits = rest.replace(" ", "")
            out[i] = f"{code} ({digits[:3]}) {digits[3:6]}-{digits[6:]}"
        elif s == 4:  # no separator at all
            out[i] = p.replace(" ", "")
        elif s == 5:  # not a number
            out[i] = "call me" if i % 2 else "n/a"
        else:  # too short (cut off)
            out[i] = code + " " + rest.replace(" ", "")[:3]
    return out


@dataclass
class SmsConsents:
    person: np.ndarray  # local person index
    status: np.ndarray  # index into consent.STATUSES (0 subscribed, 1 unsubscribed)
    source: np.ndarray  # index into consent.SOURCES
    changed_s: np.ndarray


def sms_consents(
    rng: np.random.Generator,
    has_phone: np.ndarray,
    created_s: np.ndarray,
    end_s: int,
) -> SmsConsents:
    """The SMS rows of the consent log: opt-ins at sign-up, some STOPs later."""
    n = len(has_phone)
    opts = has_phone & (rng.random(n) < SMS_OPT_IN_RATE)
    stop_draw = rng.random(n)
    stop_delay = rng.exponential(12 * 86_400, n).astype(np.int64) + 3_600
    opted = np.flatnonzero(opts)
    opted_at = created_s[opted] + 60
    opted_source = np.ones(len(opted), np.int64)  # checkout
    stop_at = opted_at + stop_delay[opted]
    stops = (stop_draw[opted] < SMS_STOP_RATE) & (stop_at < end_s)
    stopped = opted[stops]
    opted_keep = opted_at < end_s
    return SmsConsents(
        person=np.concatenate([opted[opted_keep], stopped]).astype(np.int64),
        status=np.concatenate(
            [np.zeros(int(opted_keep.sum()), np.int64), np.ones(len(stopped), np.int64)]
        ),
        source=np.concatenate([opted_source[opted_keep], np.full(len(stopped), 3)]).astype(
            np.int64
        ),
        changed_s=np.concatenate([opted_at[opted_keep], stop_at[stops]]).astype(np.int64),
    )
