"""The ``coupons:`` block of a sync declaration (format in ``syncs/README.md``)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from activations.coupons.codes import DEFAULT_ALPHABET, LOOK_ALIKES

#: what a sync may map from the ledger: destination field -> ``coupon.<column>``
COUPON_COLUMNS = {
    "coupon.code": "code",
    "coupon.value": "value",
    "coupon.value_type": "value_type",
    "coupon.expires_at": "expires_at",
}

GENERATED_ONLY = ("prefix", "length", "alphabet")


class CouponSpec(BaseModel):
    """Which campaign's codes a sync gives its audience, and how they are made."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    campaign: str  # one code per person per campaign; codes never move between campaigns
    source: Literal["generated", "pool"] = "generated"
    prefix: str = ""  # generated: before the random part, e.g. CART-
    length: int = Field(8, ge=6, le=32)  # generated: random characters after the prefix
    alphabet: str = DEFAULT_ALPHABET  # generated: no 0/O, 1/I/L
    value_column: str | None = None  # audience column with the value; null or <= 0: no code
    value: Decimal | None = Field(None, gt=0)  # a fixed value (when no column or pool value)
    value_type: Literal["amount", "percent"] = "percent"
    expiry_days: int = Field(30, ge=1, le=3650)  # after assignment (a pool's own expiry wins)

    @field_validator("campaign")
    @classmethod
    def _campaign(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
            raise ValueError(
                "must be lower case letters, digits, '-' or '_' (at most 64), e.g. cart-24h"
            )
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{0,19}|", value):
            raise ValueError("must be upper case letters, digits, '-' or '_' (at most 20)")
        return value

    @field_validator("alphabet")
    @classmethod
    def _alphabet(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z2-9]+", value):
            raise ValueError("must be upper case letters and digits 2-9")
        if len(set(value)) != len(value):
            raise ValueError("holds a character twice")
        alike = sorted(set(value) & set(LOOK_ALIKES))
        if alike:
            raise ValueError(
                f"holds look-alike characters {''.join(alike)} (customers mistype them)"
            )
        if len(value) < 16:
            raise ValueError("needs at least 16 characters")
        return value

    @field_validator("value_column")
    @classmethod
    def _column(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(f"{value!r} is not a column name")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CouponSpec:
        if self.source == "pool":
            given = [f for f in GENERATED_ONLY if f in self.model_fields_set]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: only for generated codes (source: generated); "
                    "a pool's codes are the ones imported"
                )
        elif self.value is None and self.value_column is None:
            raise ValueError(
                "generated codes need a value: name the audience column (value_column) "
                "or give a fixed value"
            )
        return self
