"""Read what the dashboard shows from the metric marts (schema ``metrics``)
and the core marts, in one read-only pass over the warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from activations.dashboards.community import COMMUNITY_MARTS, CommunityData, load_community
from activations.errors import UserError

METRICS_SCHEMA = "metrics"

#: marts the dashboard cannot do without (sync_health is optional: no sync may have run yet)
REQUIRED_MARTS = (
    "program_revenue",
    "attributed_orders",
    "campaign_performance",
    "campaign_ab_tests",
    "program_lift",
    "newsletter_funnel",
    "newsletter_growth",
    "newsletter_unsubscribes_by_tenure",
    "coupon_performance",
    "chatbot_metrics",
)
#: marts the page shows when they are there (the community section needs both of its marts)
OPTIONAL_MARTS = ("sync_health", "flow_channel_performance", *COMMUNITY_MARTS)
#: every metric mart the page reads: what its Dagster asset follows
MARTS_READ = REQUIRED_MARTS + OPTIONAL_MARTS

Row = dict[str, Any]


@dataclass
class DashboardData:
    """Everything the page shows; each list holds mart rows as plain dicts."""

    period_start: date | None
    period_end: date | None
    data_fresh_at: datetime | None
    currency: str
    headline: dict[str, float | int | None]
    revenue_by_month: list[Row]
    program_totals: list[Row]
    funnel_steps: list[Row]
    signups_by_source: list[Row]
    subscriber_growth: list[Row]
    unsubscribes_by_tenure: list[Row]
    ab_tests: list[Row]
    lift: list[Row]
    campaigns: list[Row]
    coupons: list[Row]
    chatbot: Row
    chatbot_topics: list[Row]
    sync_health: list[Row] = field(default_factory=list)
    sync_health_available: bool = False
    as_of: datetime | None = None  # the as_of (UTC) of the build of the metric marts
    community: CommunityData | None = None  # None: no community marts in the warehouse
    # flow_channel_performance: per flow (program) and channel (email, sms), flows
    # that reached anyone; empty when the mart is not in the warehouse
    channel_split: list[Row] = field(default_factory=list)


def rows(con: Any, sql: str, params: list[Any] | None = None) -> list[Row]:
    """Run a query and return its rows as dicts (DB-API: DuckDB or psycopg)."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def existing_tables(con: Any, schema: str) -> set[str]:
    found = rows(
        con,
        "select table_name from information_schema.tables where table_schema = ?",
        [schema],
    )
    return {r["table_name"] for r in found}


def check_marts(con: Any, where: str) -> set[str]:
    tables = existing_tables(con, METRICS_SCHEMA)
    missing = [m for m in REQUIRED_MARTS if m not in tables]
    if missing:
        raise UserError(
            f"the warehouse {where} has no metric marts {', '.join(missing)} "
            f"(schema {METRICS_SCHEMA})",
            hint="build them first: `activations build` (dbt build), or `make demo`",
        )
    return tables


def built_as_of(
    con: Any, schema: str = METRICS_SCHEMA, model: str = "program_revenue"
) -> datetime | None:
    """The as_of of the build that last built ``schema.model``, from the build
    record the dbt project keeps (``activations.dbt_builds``); None if unrecorded."""
    if "dbt_builds" not in existing_tables(con, "activations"):
        return None
    found = rows(
        con,
        "select as_of from activations.dbt_builds where schema_name = ? and model_name = ? "
        "order by finished_at desc limit 1",
        [schema, model],
    )
    return found[0]["as_of"] if found else None


def _num(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return float(value)


def load(con: Any, *, where: str = "the warehouse") -> DashboardData:
    """Read the marts the dashboard is made of. ``where`` names the warehouse in errors."""
    tables = check_marts(con, where)
    m = METRICS_SCHEMA

    period = rows(
        con,
        "select min(cast(placed_at as date)) as period_start, "
        "max(cast(placed_at as date)) as period_end, max(placed_at) as last_order_at "
        "from core.orders",
    )[0]
    fresh = rows(con, "select max(occurred_at) as last_email_at from staging.stg_esp__email_events")
    fresh_values = [period["last_order_at"], fresh[0]["last_email_at"]]
    data_fresh_at = max((v for v in fresh_values if v is not None), default=None)
    currency_rows = rows(
        con,
        "select currency, count(*) as n from staging.stg_shop__orders "
        "group by currency order by n desc limit 1",
    )
    currency = currency_rows[0]["currency"] if currency_rows else ""

    shop = rows(
        con,
        "select coalesce(sum(total), 0) as revenue, count(*) as orders "
        "from core.orders where is_completed",
    )[0]
    attributed = rows(
        con,
        f"select coalesce(sum(attributed_revenue), 0) as revenue from {m}.program_revenue "
        "where attribution_model = 'last_touch'",
    )[0]
    email = rows(
        con,
        f"select coalesce(sum(sent), 0) as sent, coalesce(sum(delivered), 0) as delivered, "
        f"coalesce(sum(opened), 0) as opened, coalesce(sum(clicked), 0) as clicked "
        f"from {m}.campaign_performance",
    )[0]
    growth = rows(
        con,
        f"select subscriber_base, purchaser_share from {m}.newsletter_growth "
        "order by day desc limit 1",
    )
    lift_total = rows(
        con,
        f"select sum(incremental_revenue) as incremental, count(*) as programs, "
        f"sum(case when revenue_per_person_difference_low > 0 "
        f"or revenue_per_person_difference_high < 0 then 1 else 0 end) as significant "
        f"from {m}.program_lift "
        f"where verdict in ('positive', 'negative', 'no difference yet')",
    )[0]
    coupons_total = rows(
        con,
        f"select coalesce(sum(coupons_issued), 0) as issued, "
        f"coalesce(sum(coupons_redeemed), 0) as redeemed from {m}.coupon_performance",
    )[0]
    chatbot = rows(
        con,
        f"select coalesce(sum(conversations_started), 0) as started, "
        f"coalesce(sum(conversations_finished), 0) as finished, "
        f"coalesce(sum(purchases_within_window), 0) as purchases, "
        f"max(purchase_window_days) as window_days from {m}.chatbot_metrics",
    )[0]

    def ratio(a: Any, b: Any) -> float | None:
        return float(a) / float(b) if b else None

    headline: dict[str, float | int | None] = {
        "shop_revenue": _num(shop["revenue"]),
        "completed_orders": _num(shop["orders"]),
        "email_revenue": _num(attributed["revenue"]),
        "email_revenue_share": ratio(attributed["revenue"], shop["revenue"]),
        "emails_sent": _num(email["sent"]),
        "open_rate": ratio(email["opened"], email["delivered"]),
        "click_rate": ratio(email["clicked"], email["delivered"]),
        "subscribers": _num(growth[0]["subscriber_base"]) if growth else 0,
        "subscriber_purchaser_share": _num(growth[0]["purchaser_share"]) if growth else None,
        "incremental_revenue": _num(lift_total["incremental"]),
        "lift_programs": _num(lift_total["programs"]),
        "significant_programs": _num(lift_total["significant"]),
        "coupon_redemption_rate": ratio(coupons_total["redeemed"], coupons_total["issued"]),
        "chatbot_completion_rate": ratio(chatbot["finished"], chatbot["started"]),
    }

    revenue_by_month = rows(
        con,
        f"select month_start, program, attribution_model, attributed_revenue, "
        f"attributed_orders, previous_month_revenue, mom_growth "
        f"from {m}.program_revenue order by month_start, program, attribution_model",
    )
    program_totals = rows(
        con,
        f"""
        select
            program,
            sum(case when attribution_model = 'first_touch' then attributed_revenue end)
                as first_touch,
            sum(case when attribution_model = 'last_touch' then attributed_revenue end)
                as last_touch,
            sum(case when attribution_model = 'linear' then attributed_revenue end) as linear,
            sum(case when attribution_model = 'position_based' then attributed_revenue end)
                as position_based,
            sum(case when attribution_model = 'last_touch' then attributed_orders end)
                as last_touch_orders
        from {m}.program_revenue
        group by program
        order by last_touch desc, program
        """,
    )
    latest_month = rows(
        con,
        f"select program, attributed_revenue, mom_growth from {m}.program_revenue "
        f"where attribution_model = 'last_touch' and month_start = "
        f"(select max(month_start) from {m}.program_revenue)",
    )
    growth_by_program = {r["program"]: r for r in latest_month}
    for row in program_totals:
        latest = growth_by_program.get(row["program"], {})
        row["latest_month_revenue"] = latest.get("attributed_revenue")
        row["latest_mom_growth"] = latest.get("mom_growth")

    funnel = rows(
        con,
        f"select coalesce(sum(popups_shown), 0) as popups_shown, "
        f"coalesce(sum(signups_submitted), 0) as signups_submitted, "
        f"coalesce(sum(signups_confirmed), 0) as signups_confirmed, "
        f"coalesce(sum(purchased_after_signup), 0) as purchased_after_signup "
        f"from {m}.newsletter_funnel where source = 'popup'",
    )[0]
    funnel_steps = [
        {"step": "popups_shown", "label": "Pop-up shown", "value": funnel["popups_shown"]},
        {
            "step": "signups_submitted",
            "label": "Sign-up submitted",
            "value": funnel["signups_submitted"],
        },
        {
            "step": "signups_confirmed",
            "label": "Double opt-in confirmed",
            "value": funnel["signups_confirmed"],
        },
        {
            "step": "purchased_after_signup",
            "label": "Bought after sign-up",
            "value": funnel["purchased_after_signup"],
        },
    ]
    signups_by_source = rows(
        con,
        f"select source, sum(signups_submitted) as signups_submitted, "
        f"sum(signups_confirmed) as signups_confirmed, "
        f"sum(purchased_after_signup) as purchased_after_signup, "
        f"sum(first_purchases_after_signup) as first_purchases_after_signup "
        f"from {m}.newsletter_funnel where day >= ? group by source "
        f"order by signups_confirmed desc, source",
        [period["period_start"]],
    )

    sync_health: list[Row] = []
    if "sync_health" in tables:
        sync_health = rows(
            con,
            f"select day, sync_name, runs, failed_runs + blocked_runs as failed_runs, "
            f"records_delivered, records_rejected, median_entry_to_delivery_minutes "
            f"from {m}.sync_health order by day desc, sync_name",
        )

    channel_split: list[Row] = []
    if "flow_channel_performance" in tables:
        channel_split = rows(
            con,
            f"select flow, channel, people_reached, messages_sent, people_converted, orders, "
            f"revenue, conversion_rate, flow_orders, flow_orders_only_sms, share_only_sms "
            f"from {m}.flow_channel_performance as f where exists (select 1 from "
            f"{m}.flow_channel_performance as r where r.flow = f.flow and r.people_reached > 0) "
            f"order by flow, channel",
        )

    return DashboardData(
        period_start=period["period_start"],
        period_end=period["period_end"],
        data_fresh_at=data_fresh_at,
        currency=currency or "",
        headline=headline,
        revenue_by_month=revenue_by_month,
        program_totals=program_totals,
        funnel_steps=funnel_steps,
        signups_by_source=signups_by_source,
        subscriber_growth=rows(
            con,
            f"select day, new_subscribers, ended_subscriptions, subscriber_base, "
            f"subscribers_who_purchased, purchaser_share from {m}.newsletter_growth order by day",
        ),
        unsubscribes_by_tenure=rows(
            con,
            f"select tenure_bucket, unsubscribes, share_of_unsubscribes "
            f"from {m}.newsletter_unsubscribes_by_tenure order by bucket_order",
        ),
        ab_tests=rows(
            con,
            f"select * from {m}.campaign_ab_tests order by p_value nulls last, campaign_id",
        ),
        lift=rows(con, f"select * from {m}.program_lift order by program"),
        campaigns=rows(
            con,
            f"select * from {m}.campaign_performance order by sent desc, campaign_id, variant",
        ),
        coupons=rows(
            con, f"select * from {m}.coupon_performance order by coupons_issued desc, campaign_id"
        ),
        chatbot={k: _num(v) for k, v in chatbot.items()},
        chatbot_topics=rows(
            con,
            f"select topic, sum(conversations_started) as started, "
            f"sum(conversations_resolved) as resolved, "
            f"sum(purchases_within_window) as purchases, "
            f"sum(average_duration_minutes * conversations_finished) "
            f"/ nullif(sum(case when average_duration_minutes is not null "
            f"then conversations_finished end), 0) as average_duration_minutes "
            f"from {m}.chatbot_metrics group by topic order by started desc, topic",
        ),
        sync_health=sync_health,
        sync_health_available="sync_health" in tables,
        as_of=built_as_of(con),
        community=load_community(con, tables),
        channel_split=channel_split,
    )
