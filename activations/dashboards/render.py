"""Render the metric marts into one self-contained HTML page.

``render_dashboard(warehouse, out)`` is what the CLI (`activations dashboard`)
and the Dagster asset call. The page has no external resource: CSS is inline
and charts are SVG drawn here (charts.py), so it opens from a file offline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from activations.dashboards import charts, formatting
from activations.dashboards.community import community_charts, metric_label, metric_value
from activations.dashboards.queries import DashboardData, load
from activations.errors import UserError
from activations.warehouse.connections import connect_duckdb

# program_lift verdicts with no treated-minus-control comparison: shown as text, not a point
NO_COMPARISON = ("no control group", "no treated group")

DEFAULT_OUT = Path("out") / "dashboard.html"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("activations.dashboards", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        raw=formatting.raw,
        community_metric=metric_label,
        community_value=metric_value,
        number=formatting.number,
        compact=formatting.compact,
        money=formatting.money,
        money_compact=formatting.money_compact,
        percent=formatting.percent,
        signed_percent=formatting.signed_percent,
        p_value=formatting.p_value,
        day=formatting.day,
        month=formatting.month,
        program=formatting.program_label,
        duration=formatting.duration,
    )
    return env


def build_charts(data: DashboardData) -> dict[str, Markup]:
    """Every chart of the page, as inline SVG."""
    money = formatting.compact
    last_touch = [r for r in data.revenue_by_month if r["attribution_model"] == "last_touch"]
    months = sorted({r["month_start"] for r in last_touch})
    programs = [r["program"] for r in data.program_totals if (r["last_touch"] or 0) > 0]
    by_key = {(r["month_start"], r["program"]): float(r["attributed_revenue"]) for r in last_touch}
    series = [
        (formatting.program_label(p), [by_key.get((m, p), 0.0) for m in months]) for p in programs
    ]
    growth = data.subscriber_growth
    ab_groups = [
        (
            f"{t['campaign_name'] or t['campaign_id']} ({t['ab_test']})",
            float(t["a_rate"] or 0),
            float(t["b_rate"] or 0),
            f"winner: {t['winner']}" if t["verdict"] == "winner" else t["verdict"],
        )
        for t in data.ab_tests[:8]
    ]
    lift = [
        (
            formatting.program_label(r["program"]),
            r["revenue_per_person_difference"],
            r["revenue_per_person_difference_low"],
            r["revenue_per_person_difference_high"],
        )
        for r in data.lift
        if r["control_people"] and r["treated_people"]
    ]
    lift_notes = [
        (formatting.program_label(r["program"]), str(r["verdict"]))
        for r in data.lift
        if r.get("verdict") in NO_COMPARISON
    ]
    sync_days: dict[Any, tuple[int, int]] = {}
    for r in sorted(data.sync_health, key=lambda r: r["day"])[-90:]:
        delivered, rejected = sync_days.get(r["day"], (0, 0))
        sync_days[r["day"]] = (
            delivered + (r["records_delivered"] or 0),
            rejected + (r["records_rejected"] or 0),
        )
    flows = list(dict.fromkeys(r["flow"] for r in data.channel_split))
    by_channel = {(r["flow"], r["channel"]): float(r["revenue"] or 0) for r in data.channel_split}
    return {
        "channels": charts.stacked_columns(
            [formatting.program_label(f) for f in flows],
            [
                (name, [by_channel.get((f, channel), 0.0) for f in flows])
                for name, channel in (("Email", "email"), ("SMS", "sms"))
            ],
            label="Revenue by flow and channel (send-based last touch)",
            fmt=money,
            width=1240,
            height=220,
        )
        if flows
        else charts.empty("Channel split", "No flow has reached anyone yet", height=100),
        "revenue": charts.stacked_columns(
            [formatting.month(m) for m in months],
            series,
            label="Email-attributed revenue by program and month (last touch)",
            fmt=money,
            width=1240,
            height=250,
        ),
        "funnel": charts.funnel(
            [(s["label"], float(s["value"])) for s in data.funnel_steps],
            label="Newsletter funnel",
            fmt=formatting.compact,
        ),
        "subscribers": charts.line(
            [(formatting.day(r["day"]), float(r["subscriber_base"])) for r in growth],
            label="Subscriber base",
            fmt=formatting.compact,
            height=180,
        ),
        "tenure": charts.columns(
            [(r["tenure_bucket"], float(r["unsubscribes"])) for r in data.unsubscribes_by_tenure],
            label="Unsubscribes by tenure",
            fmt=formatting.compact,
            height=180,
        ),
        "ab": charts.paired_bars(
            ab_groups, label="A/B tests: rate of A and B", fmt=formatting.percent
        ),
        "lift": charts.intervals(
            lift,
            label="Revenue per person, treated minus control (95% CI)",
            fmt=formatting.compact,
            notes=lift_notes,
        ),
        "chatbot": charts.columns(
            [
                (str(r["topic"]).replace("_", " "), float(r["started"] or 0))
                for r in data.chatbot_topics[:8]
            ],
            label="Chatbot conversations by topic",
            fmt=formatting.compact,
            height=170,
        ),
        "sync": charts.stacked_columns(
            [formatting.day(d).rsplit(" ", 1)[0] for d in sync_days],
            [
                ("Records delivered", [float(sync_days[d][0]) for d in sync_days]),
                ("Rejected", [float(sync_days[d][1]) for d in sync_days]),
            ],
            label="Sync health: records delivered and rejected by day",
            fmt=formatting.compact,
            height=200,
        )
        if sync_days
        else charts.empty("Sync health", "No sync has run yet", height=100),
        **community_charts(data.community),
    }


def render_html(data: DashboardData, *, rendered_at: datetime | None = None) -> str:
    """The page, as one HTML string."""
    env = _environment()
    template = env.get_template("dashboard.html.j2")
    legend = [
        (formatting.program_label(r["program"]), charts.color(i))
        for i, r in enumerate(r for r in data.program_totals if (r["last_touch"] or 0) > 0)
    ]
    context: dict[str, Any] = {
        "data": data,
        "h": data.headline,
        "charts": build_charts(data),
        "legend": legend,
        "community_colors": [charts.color(i) for i in range(5)],
        "currency": data.currency,
        "rendered_at": rendered_at or datetime.now(UTC).replace(tzinfo=None),
    }
    return template.render(**context)


def render_dashboard(warehouse: Path | str | None = None, out: Path | str = DEFAULT_OUT) -> Path:
    """Read the marts from the DuckDB warehouse (read-only) and write the page to ``out``."""
    con = connect_duckdb(warehouse, read_only=True)
    try:
        where = str(warehouse) if warehouse is not None else "warehouse"
        data = load(con, where=where)
    finally:
        con.close()
    target = Path(out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_html(data), encoding="utf-8")
    except OSError as exc:
        raise UserError(
            f"cannot write the dashboard to {target}: {exc.strerror}",
            hint="choose another path with --out",
        ) from None
    return target.resolve()
