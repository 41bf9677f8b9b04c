"""Control groups: who each program holds out, and what the shop leaves for the product to send.

The contact policy holds out a control group per audience (dbt macro
``control_bucket``): a person is in it when the first four hex digits of
``md5(person_id || ':' || audience)``, read as a number in [0, 65536), are below
``control_share * 65536``. ``control_share`` comes from the seed
``dbt_project/seeds/audience_policies.csv``. The generator applies the same
rule with the program name as the audience name, so the simulated ESP history
already respects the policy: a held-out person's trigger is recorded as one
``held_out`` email event (the ESP's control-group enrolment, like Braze's
"Campaign Control Group Enrollment"), never as a sent email.

The newsletter has no policy row and is sent to every subscriber.
"""

from __future__ import annotations

import csv
import hashlib
from functools import cache
from pathlib import Path

import numpy as np

from activations.errors import UserError
from activations.paths import DBT_PROJECT_DIR

POLICIES_CSV = DBT_PROJECT_DIR / "seeds" / "audience_policies.csv"
BUCKETS = 65536
# programs the generator sends without a hold-out (one-off broadcasts to every subscriber)
NOT_HELD_OUT = frozenset({"newsletter"})


def control_bucket(person_id: str, audience: str) -> int:
    """The dbt macro ``control_bucket`` in Python: 0..65535."""
    return int(hashlib.md5(f"{person_id}:{audience}".encode()).hexdigest()[:4], 16)


@cache
def control_shares(path: Path = POLICIES_CSV) -> dict[str, float]:
    """``audience -> control_share`` of the email audiences in the policy seed."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise UserError(
            f"cannot read the audience policies {path}: {exc.strerror}",
            hint="the generator holds out each program's control group from this dbt seed",
        ) from exc
    shares: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        try:
            share = float(row["control_share"])
        except (KeyError, TypeError, ValueError):
            raise UserError(
                f"{path}:{line}: column control_share must be a number from 0 to 1, "
                f"got {row.get('control_share')!r}",
                hint="fix the seed row (for example 0.10)",
            ) from None
        if not 0 <= share <= 1:
            raise UserError(
                f"{path}:{line}: column control_share must be from 0 to 1, got {share}",
                hint="fix the seed row (for example 0.10)",
            )
        if row.get("channel") == "email":
            shares[row["audience"]] = share
    return shares


def customer_id(number: int) -> str:
    """The customer id the writer gives global customer ``number`` (raw.customers)."""
    return f"cus_{number:08d}"


def buckets(numbers: np.ndarray, audience: str) -> np.ndarray:
    """``control_bucket(customer_id(n), audience)`` for each global customer number ``n``,
    about three times faster than calling it (bytes in, the digest's first two bytes out)."""
    suffix = f":{audience}".encode()
    md5 = hashlib.md5
    return np.fromiter(
        (
            int.from_bytes(md5(b"cus_%08d" % n + suffix).digest()[:2], "big")
            for n in numbers.tolist()
        ),
        dtype=np.int64,
        count=len(numbers),
    )


def held_out(numbers: np.ndarray, people: np.ndarray, programs: np.ndarray) -> np.ndarray:
    """Whether each (person, program) pair is in that program's control group.

    ``numbers[i]`` is the global customer number of local person ``i``; ``people``
    (local indices) and ``programs`` (program names) are parallel, one entry per
    would-be message.
    """
    shares = control_shares()
    out = np.zeros(len(people), dtype=bool)
    for program in np.unique(programs):
        share = shares.get(str(program), 0.0)
        if str(program) in NOT_HELD_OUT or share <= 0:
            continue
        rows = np.flatnonzero(programs == program)
        who = np.unique(people[rows])
        control = buckets(numbers[who], str(program)) < share * BUCKETS
        out[rows] = np.isin(people[rows], who[control])
    return out
