"""One more hour of a generated shop's streams, appended in SQL: the input of an
incremental build (its test and the tier M benchmark).

``append_hour(con, end)`` adds to ``raw`` (DuckDB or PostgreSQL: portable SQL on
any connection with ``execute``), for the hour after ``end`` (the end of the
generated history):

- the track calls of the hour before ``end``, one hour later (new ids), and a
  quarter of the email events of the day before ``end`` again in the new hour;
- late track calls: a quarter of the calls of two days earlier, received in the
  new hour with their old timestamps (late receipts);
- slow loads: a quarter of the calls of three hours earlier, landed with a
  received_at two hours behind the latest one (a loader that committed out of
  order, inside the load cursor's lookback);
- late email events: a quarter of the email events of the day before that
  again, with their old times (opens and clicks pulled back late, inside the
  lookback), and a quarter of a day of email events a week old (a consent pull
  landing old unsubscribes and bounces, beyond the lookback);
- identify calls in the new hour for a few browsers seen only anonymously so
  far: their earlier calls now belong to a customer.

Every statement is idempotent per ``end`` (ids are derived, and a second call
adds nothing it already added).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

_TS = "%Y-%m-%d %H:%M:%S"


def _lit(moment: datetime) -> str:
    return f"cast('{moment.strftime(_TS)}' as timestamp)"


def _sample(column: str) -> str:
    """About a quarter of the rows, the same ones on every database."""
    return f"substr(md5({column}), 1, 1) in ('0', '1', '2', '3')"


def append_hour_sql(end: datetime) -> list[str]:
    """The statements that append the hour after ``end`` (see the module docstring)."""
    week = _lit(end - timedelta(days=8))
    hour_ago, one_day, two_days, three_hours = (
        _lit(end - timedelta(hours=1)),
        _lit(end - timedelta(hours=24)),
        _lit(end - timedelta(hours=48)),
        _lit(end - timedelta(hours=3)),
    )
    now, late_receipt, slow_receipt = (
        _lit(end),
        _lit(end + timedelta(minutes=30)),
        _lit(end - timedelta(hours=2)),
    )
    event_cols = 'anonymous_id, user_id, event, "timestamp", received_at, properties, context'
    email_cols = (
        "message_id, customer_id, email, campaign_id, variant, event_type, bounce_type, url, "
        "provider"
    )

    def new(table: str, id_col: str, suffix: str) -> str:
        return (
            f"not exists (select 1 from raw.{table} as t "
            f"where t.{id_col} = s.{id_col} || '{suffix}')"
        )

    return [
        # the hour before end, one hour later
        f"""insert into raw.events (message_id, {event_cols})
        select message_id || '-h1', anonymous_id, user_id, event,
               "timestamp" + interval '1 hour', received_at + interval '1 hour', properties, context
        from raw.events as s
        where "timestamp" >= {hour_ago} and "timestamp" < {now}
          and {new("events", "message_id", "-h1")}""",
        # late receipts: two days old, received in the new hour
        f"""insert into raw.events (message_id, {event_cols})
        select message_id || '-late', anonymous_id, user_id, event,
               "timestamp", {late_receipt}, properties, context
        from raw.events as s
        where "timestamp" >= {two_days} and "timestamp" < {two_days} + interval '1 hour'
          and {_sample("message_id")} and {new("events", "message_id", "-late")}""",
        # a slow loader: received_at behind the latest one, inside the lookback
        f"""insert into raw.events (message_id, {event_cols})
        select message_id || '-slow', anonymous_id, user_id, event,
               "timestamp", {slow_receipt}, properties, context
        from raw.events as s
        where "timestamp" >= {three_hours} and "timestamp" < {three_hours} + interval '1 hour'
          and {_sample("message_id")} and {new("events", "message_id", "-slow")}""",
        # browsers identified in the new hour: their anonymous past joins a customer
        f"""insert into raw.identifies (message_id, user_id, anonymous_id, traits, "timestamp")
        select 'ajs-restitch-' || a.anonymous_id, c.customer_id, a.anonymous_id,
               '{{}}', {now} + interval '10 minutes'
        from (
            select anonymous_id, row_number() over (order by md5(anonymous_id)) as n
            from raw.events
            group by anonymous_id
            having count(user_id) = 0
        ) as a
        inner join (
            select customer_id, row_number() over (order by md5(customer_id)) as n
            from raw.customers
        ) as c on c.n = a.n
        where a.n <= 20
          and not exists (
              select 1 from raw.identifies as i where i.anonymous_id = a.anonymous_id
          )""",
        # email events: a quarter of the day before end again in the new hour
        # (email is sparse: an hour of a small shop may hold none), and late
        # pull-backs of the day before that with their old times
        f"""insert into raw.email_events (event_id, {email_cols}, occurred_at)
        select event_id || '-h1', {email_cols}, {late_receipt}
        from raw.email_events as s
        where occurred_at >= {one_day} and occurred_at < {now}
          and {_sample("event_id")} and {new("email_events", "event_id", "-h1")}""",
        # a consent pull: events of a week before, landed only now (beyond the lookback)
        f"""insert into raw.email_events (event_id, {email_cols}, occurred_at)
        select event_id || '-pulled', {email_cols}, occurred_at
        from raw.email_events as s
        where occurred_at >= {week} and occurred_at < {week} + interval '1 day'
          and {_sample("event_id")} and {new("email_events", "event_id", "-pulled")}""",
        f"""insert into raw.email_events (event_id, {email_cols}, occurred_at)
        select event_id || '-late', {email_cols}, occurred_at
        from raw.email_events as s
        where occurred_at >= {two_days} and occurred_at < {one_day}
          and {_sample("event_id")} and {new("email_events", "event_id", "-late")}""",
    ]


def append_hour(con: Any, end: datetime) -> None:
    """Append the hour after ``end`` to ``raw`` on ``con`` (DuckDB or psycopg)."""
    for statement in append_hour_sql(end):
        con.execute(statement)
