"""The dashboard's community section: members, content and ambassadors week by
week, and members against comparable non-members (open rate, basket value,
purchase frequency, each a ratio with its 95% interval).

Read from ``metrics.community_member_comparison``, ``metrics.community_activity``
and ``core.community_members``; the section is left out when the warehouse has
no community marts (built before the community existed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from activations.dashboards import charts, formatting

#: the community marts the section reads (schema metrics)
COMMUNITY_MARTS = ("community_member_comparison", "community_activity")

METRIC_LABELS = {
    "open_rate": "Email open rate",
    "basket_value": "Basket value",
    "purchase_frequency": "Orders per person",
}
CONTENT_SERIES = (
    ("reviews", "Reviews"),
    ("questions", "Questions"),
    ("photos", "Photos"),
    ("discussions", "Discussions"),
    ("answers", "Answers"),
)


@dataclass
class CommunityData:
    headline: dict[str, float | int | None]
    comparison: list[dict[str, Any]]
    weeks: list[dict[str, Any]]


def load_community(con: Any, tables: set[str]) -> CommunityData | None:
    """The section's numbers, or None when the community marts are not built."""
    from activations.dashboards.queries import METRICS_SCHEMA, rows

    if not set(COMMUNITY_MARTS) <= tables:
        return None
    m = METRICS_SCHEMA
    members = rows(
        con,
        "select count(*) as members, "
        "sum(case when activity_level in ('active', 'very_active') then 1 else 0 end) "
        "as active_members, "
        "sum(case when is_ambassador then 1 else 0 end) as ambassadors, "
        "coalesce(sum(points_balance), 0) as points_outstanding "
        "from core.community_members",
    )[0]
    content = rows(
        con,
        f"select coalesce(sum(posts), 0) as posts, coalesce(sum(answers), 0) as answers, "
        f"coalesce(sum(reactions), 0) as reactions from {m}.community_activity",
    )[0]
    customers = rows(con, "select count(*) as customers from core.customers")[0]

    def num(value: Any) -> float | int | None:
        if value is None or isinstance(value, int):
            return value
        return float(value)

    n_members = num(members["members"]) or 0
    headline: dict[str, float | int | None] = {
        "community_members": n_members,
        "community_member_share": n_members / customers["customers"]
        if customers["customers"]
        else None,
        "community_active_members": num(members["active_members"]),
        "community_ambassadors": num(members["ambassadors"]),
        "community_ambassador_share": (num(members["ambassadors"]) or 0) / n_members
        if n_members
        else None,
        "community_posts": num(content["posts"]),
        "community_answers": num(content["answers"]),
        "community_reactions": num(content["reactions"]),
        "community_points_outstanding": num(members["points_outstanding"]),
    }
    return CommunityData(
        headline=headline,
        comparison=rows(
            con, f"select * from {m}.community_member_comparison order by metric_order"
        ),
        weeks=rows(con, f"select * from {m}.community_activity order by week_start"),
    )


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize())


def metric_value(metric: str, value: Any, currency: str = "") -> str:
    """A comparison value as people read it: a percent, money or orders per person."""
    if metric == "open_rate":
        return formatting.percent(value)
    if metric == "basket_value":
        return formatting.money(value, currency, 2)
    return formatting.number(value, 2)


def community_charts(data: CommunityData | None) -> dict[str, Markup]:
    """The section's charts: content by week, ambassadors by week, the ratios."""
    if data is None:
        return {}
    weeks = [formatting.day(w["week_start"]).rsplit(" ", 1)[0] for w in data.weeks]
    content = charts.stacked_columns(
        weeks,
        [(label, [float(w[key] or 0) for w in data.weeks]) for key, label in CONTENT_SERIES],
        label="Community content by week",
        fmt=formatting.compact,
        height=220,
    )
    ambassadors = charts.line(
        [
            (formatting.day(w["week_start"]), float(w["ambassadors"]))
            for w in data.weeks
            if w["ambassadors"] is not None
        ],
        label="Ambassadors at the end of each week",
        fmt=formatting.compact,
        height=170,
    )
    # the ratio as a difference from parity (ratio - 1), around the zero line
    ratios = charts.intervals(
        [
            (
                metric_label(r["metric"]),
                None if r["ratio"] is None else float(r["ratio"]) - 1,
                None if r["ratio_low"] is None else float(r["ratio_low"]) - 1,
                None if r["ratio_high"] is None else float(r["ratio_high"]) - 1,
            )
            for r in data.comparison
        ],
        label="Members against matched non-members (95% CI)",
        fmt=formatting.signed_percent,
        notes=[
            (metric_label(r["metric"]), str(r["verdict"]))
            for r in data.comparison
            if r["ratio"] is None
        ],
    )
    return {
        "community_content": content,
        "community_ambassadors": ambassadors,
        "community_comparison": ratios,
    }
