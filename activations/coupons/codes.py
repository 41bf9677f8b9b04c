"""Generated codes: cryptographically random (``secrets``), from an alphabet
without the characters people confuse when they type a code from an email
(0/O, 1/I/L), upper case. Codes are compared upper-cased and trimmed
everywhere (``normalise``), as shops do."""

from __future__ import annotations

import re
import secrets

#: characters never used in a generated code: 0 and O, 1, I and L look alike
LOOK_ALIKES = "01OIL"
#: 31 characters: 8 of them give 31**8 (about 8.5e11) codes per prefix
DEFAULT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

#: what an imported code may look like (after ``normalise``)
CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]{2,63}")


def normalise(code: str) -> str:
    """A code as stored and compared: trimmed, upper case."""
    return code.strip().upper()


def generate(
    n: int, *, prefix: str = "", length: int = 8, alphabet: str = DEFAULT_ALPHABET
) -> list[str]:
    """``n`` distinct random codes ``prefix`` + ``length`` characters of
    ``alphabet``, in the order drawn (never sorted: a sorted list handed to
    people in id order would tell a customer where their neighbours' codes
    lie). Distinct among themselves only: the caller drops those already used
    anywhere and draws again (``assign.py``)."""
    out: dict[str, None] = {}
    while len(out) < n:
        out[prefix + "".join(secrets.choice(alphabet) for _ in range(length))] = None
    return list(out)
