"""The audience membership log and the lift measured from it.

- every build adds its decisions; an entry keeps its first decision, a later
  build updates decided_at; a full refresh does not wipe the history;
- a person held out in the warehouse (log only, no ESP event) is a control member;
- a program nobody was held out of (the newsletter) has 'no control group'.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from activations.warehouse import dbt


def test_the_first_build_logs_every_decision(built_warehouse):
    (decided,) = built_warehouse.query(
        "select count(*) from intermediate.int_audience_memberships_decided"
    )[0]
    rows = built_warehouse.query(
        "select count(*), min(decided_at), max(decided_at), "
        "sum(case when was_held_out and not is_control then 1 else 0 end), "
        "sum(case when was_sendable and is_control then 1 else 0 end) "
        "from core.audience_membership_log"
    )[0]
    logged, first, last, held_not_control, sendable_control = rows
    assert decided > 0 and logged == decided
    assert first == last == built_warehouse.as_of
    assert held_not_control == 0 and sendable_control == 0
    (missing,) = built_warehouse.query(
        """
        select count(*) from intermediate.int_audience_memberships_decided as d
        where not exists (
            select 1 from core.audience_membership_log as l
            where l.person_id = d.person_id and l.audience = d.audience
              and l.entered_at = d.entered_at
              and l.is_control = d.is_control and l.is_sendable = d.is_sendable
        )"""
    )[0]
    assert missing == 0


GHOST_ENTRY = datetime(2026, 6, 1)
GHOST = (
    "insert into core.audience_membership_log values "
    "('ghost-1', 'cart_abandoners', null, timestamp '2026-06-01 00:00:00', true, false, "
    "false, true, 'control_group', timestamp '2026-06-01 01:00:00', "
    "timestamp '2026-06-01 01:00:00')"
)


def test_later_builds_keep_history_and_first_decisions(warehouse_copy):
    wh = warehouse_copy
    con = wh.connect()
    try:
        con.execute(GHOST)
        # flip one logged control decision: the next build must keep the logged one
        (person, audience, entered_at) = con.execute(
            "select person_id, audience, entered_at from core.audience_membership_log "
            "where not is_control and is_sendable order by person_id, audience limit 1"
        ).fetchone()
        con.execute(
            "update core.audience_membership_log set is_control = true, was_held_out = true, "
            "was_sendable = false where person_id = ? and audience = ? and entered_at = ?",
            [person, audience, entered_at],
        )
        (before,) = con.execute("select count(*) from core.audience_membership_log").fetchone()
    finally:
        con.close()
    later = wh.as_of + timedelta(days=1)
    wh.dbt(
        "run",
        select=["audience_membership_log"],
        vars={"as_of": later.strftime("%Y-%m-%d %H:%M:%S")},
    )
    rows = dict(
        (tuple(r[:3]), r[3:])
        for r in wh.query(
            "select person_id, audience, entered_at, is_control, was_sendable, was_held_out, "
            "first_decided_at, decided_at from core.audience_membership_log"
        )
    )
    assert len(rows) == before  # same decisions: nothing added, nothing lost
    ghost = rows[("ghost-1", "cart_abandoners", GHOST_ENTRY)]
    assert ghost[0] is True and ghost[3].day == 1  # not decided again: untouched
    flipped = rows[(person, audience, entered_at)]
    # the first decision (control) is kept over the rebuilt one (sendable)
    assert flipped[0] is True and flipped[1] is False and flipped[2] is True
    assert flipped[3] == wh.as_of and flipped[4] == later
    # the log-only control person is a control member of the program
    members = wh.query(
        "select is_control, entered_at from intermediate.int_program_members_reconstructed "
        "where person_id = 'ghost-1' and program = 'cart_abandoners'"
    )
    assert members == [(True, GHOST_ENTRY)]
    # a full refresh leaves the history alone (full_refresh=false)
    wh.dbt("run", select=["audience_membership_log"], extra_args=["--full-refresh"])
    (ghosts,) = wh.query(
        "select count(*) from core.audience_membership_log where person_id = 'ghost-1'"
    )[0]
    assert ghosts == 1


def test_newsletter_has_no_control_group_and_no_sent_person_is_control(built_warehouse):
    lift = {
        r[0]: r[1:]
        for r in built_warehouse.query(
            "select program, control_people, treated_people, revenue_per_person_difference, "
            "incremental_revenue, verdict from metrics.program_lift"
        )
    }
    control, treated, difference, incremental, verdict = lift["newsletter"]
    assert control == 0 and treated > 0
    assert difference is None and incremental is None and verdict == "no control group"
    assert lift["cart_abandoners"][0] > 0
    (sent_as_control,) = built_warehouse.query(
        """
        select count(*) from intermediate.int_program_members_reconstructed as m
        where m.is_control and exists (
            select 1 from staging.stg_esp__email_events as e
            inner join staging.stg_esp__campaigns as c using (campaign_id)
            where e.customer_id = m.person_id and c.program = m.program
              and e.event_type = 'sent' and e.occurred_at <= m.entered_at
        )"""
    )[0]
    assert sent_as_control == 0


@pytest.mark.postgres
def test_the_log_accumulates_on_postgres(postgres_server, built_warehouse, tmp_path):
    """The incremental path (delete+insert on the three-column key) is portable:
    a second build on PostgreSQL keeps the first decisions and moves decided_at."""
    later = built_warehouse.as_of + timedelta(days=1)
    common = {
        "target": "postgres",
        "target_path": tmp_path / "pg_target",
        "env": postgres_server.env,
        "quiet": True,
    }
    dbt.build(
        select=["+audience_membership_log"],
        exclude=["test_type:unit", "test_type:data"],
        vars=built_warehouse.vars,
        **common,
    )
    dbt.run_dbt(
        "run",
        select=["audience_membership_log"],
        vars={"as_of": later.strftime("%Y-%m-%d %H:%M:%S")},
        **common,
    )
    with psycopg.connect(postgres_server.conninfo) as pg:
        (rows, keys, first, last) = pg.execute(
            "select count(*), count(distinct (person_id, audience, entered_at)), "
            "min(first_decided_at), max(decided_at) from core.audience_membership_log"
        ).fetchone()
    (decided,) = built_warehouse.query(
        "select count(*) from intermediate.int_audience_memberships_decided"
    )[0]
    assert rows == keys == decided
    assert first == built_warehouse.as_of and last == later
