"""How numbers read on the dashboard (and the raw value kept next to them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

PROGRAM_LABELS = {
    "newsletter": "Newsletter",
    "cart_abandoners": "Cart rescue",
    "browse_abandoners": "Browse abandonment",
    "welcome_series": "Welcome series",
    "dormant_customers": "Win-back (dormant)",
    "replenishment_due": "Replenishment",
    "birthday_upcoming": "Birthday",
    "first_order_followup": "First-order follow-up",
    "order_milestones": "Order milestones",
    "coupon_expiring": "Coupon expiry reminder",
    "unknown": "Unknown",
    "none": "No campaign",
}


def program_label(program: str | None) -> str:
    if program is None:
        return "—"
    return PROGRAM_LABELS.get(program, program.replace("_", " ").capitalize())


def raw(value: Any) -> str:
    """The exact value for a data-value attribute (tests compare it to the marts)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Decimal, int)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{float(value):,.{digits}f}"


def compact(value: Any) -> str:
    """12.3k, 4.5M: for chart axes and headline numbers."""
    if value is None:
        return "—"
    v = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            text = f"{v / limit:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.2f}"


def money(value: Any, currency: str = "", digits: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{float(value):,.{digits}f}"
    return f"{text} {currency}".strip()


def money_compact(value: Any, currency: str = "") -> str:
    """Headline money: 553.8k EUR."""
    if value is None:
        return "—"
    return f"{compact(value)} {currency}".strip()


def percent(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def signed_percent(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:+.{digits}f}%"


def p_value(value: Any) -> str:
    if value is None:
        return "—"
    v = float(value)
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def day(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%d %b %Y %H:%M UTC")
    if isinstance(value, date):
        return value.strftime("%d %b %Y")
    return str(value)


def month(value: Any) -> str:
    return value.strftime("%b %Y") if isinstance(value, (date, datetime)) else str(value)


def duration(minutes: Any) -> str:
    """Minutes as a short duration: 45 min, 3.2 h, 12 d."""
    if minutes is None:
        return "—"
    m = float(minutes)
    if m < 90:
        return f"{m:.0f} min"
    if m < 48 * 60:
        return f"{m / 60:.1f} h"
    return f"{m / 1440:.0f} d"
