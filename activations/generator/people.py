"""Customers: who they are, when they signed up, how they behave.

Emails are typed by people: about 5% carry capitals, 2% stray spaces and
0.5% are invalid (no ``@`` or no dotted domain) and hard-bounce when mailed.
About 90% give a birth date. Half the accounts predate the simulated window;
the rest sign up during it, after a few anonymous visits.

Behaviour is drawn per person so that a minority does most of the buying:
visit rates are gamma-distributed (heavy tail) and so is purchase intent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from activations.generator.timeline import DAY, Timeline

COUNTRIES = np.array(["DE", "AT", "CZ", "SK", "PL", "NL", "FR", "GB"], dtype=object)
COUNTRY_WEIGHT = np.array([0.34, 0.1, 0.18, 0.06, 0.1, 0.08, 0.08, 0.06])
# mobile prefixes that make valid numbers with 7 more digits (libphonenumber metadata)
PHONE_PREFIX = np.array(
    ["+49 170 ", "+43 66", "+420 73", "+421 90", "+48 50", "+31 6 1", "+33 6 1", "+44 7 40"],
    dtype=object,
)
FIRST_NAMES = np.array(
    [
        "Anna",
        "Lukas",
        "Marie",
        "Jan",
        "Sophie",
        "Tomas",
        "Eva",
        "Paul",
        "Lena",
        "Jakub",
        "Emma",
        "Felix",
        "Hana",
        "Max",
        "Julia",
        "Petr",
        "Laura",
        "David",
        "Klara",
        "Noah",
        "Olivia",
        "Marek",
        "Sara",
        "Leon",
        "Tereza",
        "Martin",
        "Chloe",
        "Oliver",
        "Zofia",
        "Pieter",
    ],
    dtype=object,
)
LAST_NAMES = np.array(
    [
        "Mueller",
        "Novak",
        "Schmidt",
        "Svoboda",
        "Fischer",
        "Dvorak",
        "Weber",
        "Kowalski",
        "Meyer",
        "Horvath",
        "Wagner",
        "Nowak",
        "Becker",
        "Jansen",
        "Martin",
        "Bernard",
        "Smith",
        "Jones",
        "Hoffmann",
        "Cerny",
        "Schulz",
        "de Vries",
        "Dubois",
        "Brown",
        "Krause",
    ],
    dtype=object,
)
DOMAINS = np.array(
    [
        "gmail.com",
        "outlook.com",
        "gmx.de",
        "seznam.cz",
        "yahoo.com",
        "icloud.com",
        "web.de",
        "wp.pl",
        "hotmail.com",
        "orange.fr",
    ],
    dtype=object,
)
DOMAIN_WEIGHT = np.array([0.34, 0.12, 0.1, 0.1, 0.07, 0.08, 0.07, 0.05, 0.04, 0.03])
NO_BIRTH_DAY = -(10**9)
DEVICE_TYPES = np.array(["mobile", "desktop", "tablet"], dtype=object)


@dataclass(frozen=True)
class People:
    """One chunk of customers, as columns. ``number`` is the global customer number."""

    number: np.ndarray  # int64, global, 1-based
    email: np.ndarray  # object: as typed
    email_valid: np.ndarray  # bool
    first_name: np.ndarray
    last_name: np.ndarray
    phone: np.ndarray  # object or None
    birth_day: np.ndarray  # int64 days since epoch, NO_BIRTH_DAY when unknown
    country: np.ndarray
    created_s: np.ndarray  # int64
    visit_rate: np.ndarray  # sessions per day
    intent: np.ndarray  # purchase intent multiplier
    open_propensity: np.ndarray  # probability to open an email
    devices: np.ndarray  # 1 or 2 browsers
    device_type: np.ndarray  # int64 index into DEVICE_TYPES (first browser)
    opt_in_at_signup: np.ndarray  # bool: ticked the newsletter box when creating the account
    favourite_subcategories: np.ndarray  # int64 (n, 3)

    def __len__(self) -> int:
        return len(self.number)

    def table(self) -> pa.Table:
        known_birth = self.birth_day != NO_BIRTH_DAY
        return pa.table(
            {
                "number": pa.array(self.number, pa.int64()),
                "email": pa.array(self.email, pa.string()),
                "phone": pa.array(self.phone, pa.string()),
                "first_name": pa.array(self.first_name, pa.string()),
                "last_name": pa.array(self.last_name, pa.string()),
                "birth_day": pa.array(
                    self.birth_day.astype(np.int32), pa.int32(), mask=~known_birth
                ),
                "country": pa.array(self.country, pa.string()),
                "created_s": pa.array(self.created_s, pa.int64()),
            }
        )


def _messy(rng: np.random.Generator, emails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(emails)
    roll = rng.random(n)
    out = emails.copy()
    valid = np.ones(n, dtype=bool)
    for i in np.flatnonzero(roll < 0.05):  # capitals
        local, _, domain = out[i].partition("@")
        out[i] = f"{local.title()}@{domain.capitalize()}"
    for i in np.flatnonzero((roll >= 0.05) & (roll < 0.07)):  # stray spaces
        out[i] = f" {out[i]}" if roll[i] < 0.06 else f"{out[i]} "
    for i in np.flatnonzero((roll >= 0.07) & (roll < 0.075)):  # invalid
        local, _, domain = out[i].partition("@")
        out[i] = f"{local}@{domain.split('.')[0]}" if roll[i] < 0.0725 else f"{local}.{domain}"
        valid[i] = False
    return out, valid


def build_people(
    rng: np.random.Generator, first_number: int, n: int, timeline: Timeline, n_subcategories: int
) -> People:
    number = np.arange(first_number, first_number + n, dtype=np.int64)
    first = FIRST_NAMES[rng.integers(0, len(FIRST_NAMES), n)]
    last = LAST_NAMES[rng.integers(0, len(LAST_NAMES), n)]
    country_idx = rng.choice(len(COUNTRIES), n, p=COUNTRY_WEIGHT)
    domain = DOMAINS[rng.choice(len(DOMAINS), n, p=DOMAIN_WEIGHT)]
    style = rng.integers(0, 3, n)
    emails = np.array(
        [
            (f"{f}.{la}{k}@{d}" if s == 0 else f"{f[0]}{la}{k}@{d}" if s == 1 else f"{f}{k}@{d}")
            .lower()
            .replace(" ", "")
            for f, la, d, s, k in zip(first, last, domain, style, number, strict=True)
        ],
        dtype=object,
    )
    email, valid = _messy(rng, emails)

    digits = rng.integers(1_000_000, 9_999_999, n)
    phone = np.array(
        [f"{p}{d}" for p, d in zip(PHONE_PREFIX[country_idx], digits, strict=True)], dtype=object
    )
    phone[rng.random(n) < 0.25] = None

    age_days = (rng.gamma(4.0, 5.5, n) + 18) * 365.25
    birth_day = (timeline.end_s // DAY - age_days).astype(np.int64)
    birth_day[rng.random(n) < 0.1] = NO_BIRTH_DAY

    # half the accounts existed before the window (up to two years), half sign up during it
    in_window = rng.random(n) < 0.5
    before = timeline.start_s - (rng.random(n) * 2 * 365 * DAY).astype(np.int64)
    during = timeline.sample(rng, np.full(n, timeline.start_s, dtype=np.int64))
    created = np.where(in_window, during, before)

    favourites = rng.integers(0, n_subcategories, (n, 3))
    return People(
        number=number,
        email=email,
        email_valid=valid,
        first_name=first,
        last_name=last,
        phone=phone,
        birth_day=birth_day,
        country=COUNTRIES[country_idx],
        created_s=created,
        visit_rate=rng.gamma(0.55, 0.16 / 0.55, n),
        intent=rng.gamma(1.2, 1 / 1.2, n),
        open_propensity=rng.beta(2.2, 4.0, n),
        devices=1 + (rng.random(n) < 0.3),
        device_type=rng.choice(3, n, p=[0.6, 0.34, 0.06]),
        opt_in_at_signup=rng.random(n) < 0.35,
        favourite_subcategories=favourites,
    )
