"""Coupon codes given out by sync runs, on real DuckDB files: one code per
person and campaign, stable across runs and audience rebuilds, never given to
two people, never assigned by a dry run, and a dry pool stops the run before
anything is sent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from activations.coupons import assign as assign_module
from activations.coupons.assign import Assigned, assign
from activations.coupons.pool import import_pool
from activations.coupons.spec import CouponSpec
from activations.errors import UserError
from activations.sync.engine import plan, run
from activations.sync.specs import parse_file
from activations.warehouse.db import Db
from tests.activations.coupons.conftest import (
    CODE,
    ENV,
    FieldsDestination,
    coupon_spec,
    ledger,
)
from tests.activations.sync.conftest import make_audience, people, table_digest, write_spec


def test_each_person_keeps_one_code_across_runs_and_rebuilds(db, tmp_path: Path) -> None:
    spec = coupon_spec(tmp_path)
    rows = people(40)  # p00000 has cart_value 0: no incentive, no code
    rows[3].update(is_sendable=False, suppression_reason="unsubscribed")
    make_audience(db, rows)
    dest = FieldsDestination()

    first = run(spec, db, provider=dest, env=ENV)
    assert first.status == "succeeded" and first.coupons_assigned == 38
    codes = ledger(db)
    assert len(codes) == 38 and len(set(codes.values())) == 38
    assert "p00000" not in codes and "p00003" not in codes  # no value; not sendable
    assert all(re.fullmatch(CODE, c) for c in codes.values())
    assert {k: f["code"] for k, f in dest.fields.items() if f["code"]} == codes
    assert dest.fields["p00000"]["code"] is None
    assert dest.fields["p00005"]["code_value"] == 5  # the audience's value_column
    assert dest.fields["p00005"]["expires"] is not None
    assert any("gave 38 people their own code" in n for n in first.notes)

    again = run(spec, db, provider=dest, env=ENV)  # a resync: nothing new, nothing resent
    assert (again.sent, again.coupons_assigned, again.unchanged) == (0, 0, 39)
    assert ledger(db) == codes

    # the audience rebuilt from scratch (as dbt does), rows in another order, one newcomer
    make_audience(db, list(reversed(rows)) + people(1, start=40))
    dest.received.clear()
    third = run(spec, db, provider=dest, env=ENV)
    assert dest.received == [("upsert", "p00040")] and third.coupons_assigned == 1
    after = ledger(db)
    assert {k: after[k] for k in codes} == codes and after["p00040"] not in codes.values()

    # leaving and coming back: the same code
    make_audience(db, rows[2:])
    run(spec, db, provider=dest, env=ENV)
    make_audience(db, rows)
    run(spec, db, provider=dest, env=ENV)
    assert dest.fields["p00001"]["code"] == codes["p00001"] and ledger(db) == after


def test_a_code_is_sent_only_while_the_person_qualifies(db, tmp_path: Path) -> None:
    spec = coupon_spec(tmp_path)
    make_audience(db, people(3, start=1))
    dest = FieldsDestination()
    run(spec, db, provider=dest, env=ENV)
    code = ledger(db)["p00002"]
    make_audience(db, people(3, start=1, cart_value=None))  # e.g. back at the 1 h stage
    run(spec, db, provider=dest, env=ENV)
    assert dest.fields["p00002"]["code"] is None and ledger(db)["p00002"] == code
    make_audience(db, people(3, start=1))
    run(spec, db, provider=dest, env=ENV)
    assert dest.fields["p00002"]["code"] == code


def test_codes_are_unique_among_many_people(db) -> None:
    """``assign`` on a plan's snapshot of 20,000 people (the engine calls it the same way)."""
    spec = CouponSpec(campaign="big", length=6, value=5, value_type="amount")
    db.execute(
        "create temp table snap as select 'p' || cast(i as varchar) as coupon_person, "
        "cast(null as decimal(12, 2)) as coupon_input, true as coupon_missing, "
        "cast(null as varchar) as reason from range(20000) as t(i)"
    )
    got = assign(Db(db), spec, "snap", sync_name="s", audience="carts", run_id="r1")
    codes = ledger(db, "big")
    assert got == Assigned(20000, 0) and len(codes) == 20000 == len(set(codes.values()))
    assert all(re.fullmatch(r"[23456789A-HJKMNP-Z]{6}", c) for c in codes.values())
    again = assign(Db(db), spec, "snap", sync_name="s", audience="carts", run_id="r2")
    assert again == Assigned(0, 0) and ledger(db, "big") == codes


def test_a_drawn_code_already_used_anywhere_is_drawn_again(
    db, tmp_path: Path, monkeypatch
) -> None:
    """Collisions with the ledger (another campaign), a pool and the shop's own
    coupons are left out and those people get fresh codes."""
    make_audience(db, people(3, start=1))
    other = coupon_spec(tmp_path, "{campaign: other, value: 5}", name="other_hook", file="o.yml")
    run(other, db, provider=FieldsDestination(), env=ENV)
    taken = sorted(ledger(db, "other").values())
    pool_file = tmp_path / "pool.csv"
    pool_file.write_text("POOLCODE1\n")
    import_pool(Db(db), pool_file, "pooled")
    db.execute("create schema if not exists raw")
    db.execute("create table raw.coupons (coupon_code varchar)")
    db.execute("insert into raw.coupons values (' shop1 ')")

    draws = [[taken[0], "POOLCODE1", "SHOP1"], [taken[1], "FRESH2", "FRESH3"], ["FRESH1"]]
    real = assign_module.generate

    def rigged(n: int, **kw):
        return draws.pop(0)[:n] if draws else real(n, **kw)

    monkeypatch.setattr(assign_module, "generate", rigged)
    run(coupon_spec(tmp_path, "{campaign: cart-24h, value: 5}"), db,
        provider=FieldsDestination(), env=ENV)  # fmt: skip
    assert sorted(ledger(db).values()) == ["FRESH1", "FRESH2", "FRESH3"]


def test_two_syncs_of_one_campaign_give_the_same_codes(db, tmp_path: Path) -> None:
    make_audience(db, people(10, start=1))
    one = coupon_spec(tmp_path, name="one_hook", file="one.yml")
    two = coupon_spec(tmp_path, name="two_hook", file="two.yml")
    a, b = FieldsDestination(), FieldsDestination()
    run(one, db, provider=a, env=ENV)
    second = run(two, db, provider=b, env=ENV)
    assert second.coupons_assigned == 0
    assert {k: f["code"] for k, f in a.fields.items()} == {
        k: f["code"] for k, f in b.fields.items()
    }


def test_dry_run_and_plan_give_out_no_code(db, tmp_path: Path) -> None:
    spec = coupon_spec(tmp_path)
    make_audience(db, people(20, start=1))
    before = table_digest(db)
    dry = run(spec, db, dry_run=True, env=ENV)
    p = plan(spec, db)
    assert dry.status == "dry_run" and dry.coupons_assigned == 0
    assert dry.plan.coupons_needed == p.coupons_needed == 20
    assert table_digest(db) == before and ledger(db) == {}
    # with a ledger in place, still nothing written
    run(spec, db, provider=FieldsDestination(), env=ENV)
    make_audience(db, people(25, start=1))
    before = table_digest(db)
    assert run(spec, db, dry_run=True, env=ENV).plan.coupons_needed == 5
    assert table_digest(db) == before


def _pool_spec(tmp_path: Path):
    return coupon_spec(
        tmp_path, "{campaign: dormant-q3, source: pool, value: 15, value_type: amount}"
    )


def test_a_dry_pool_stops_the_run_before_anything_is_sent(db, tmp_path: Path) -> None:
    spec = _pool_spec(tmp_path)
    pool = tmp_path / "codes.csv"
    pool.write_text("code,value,expires_at\nAAA-001,20,2099-01-01\nAAA-002,,\nAAA-003,,\n")
    assert import_pool(Db(db), pool, "dormant-q3").imported == 3
    make_audience(db, people(5, start=1))
    dest = FieldsDestination()

    for force in (False, True):  # --force does not override it
        report = run(spec, db, provider=dest, env=ENV, force=force)
        assert report.status == "blocked" and report.exit_code == 3
        assert "'dormant-q3'" in report.error and "2 codes missing" in report.error
        assert not report.forceable
        assert dest.requests == 0 and ledger(db, "dormant-q3") == {}
    assert db.execute("select count(*) from activations.sync_inflight").fetchone() == (0,)
    with pytest.raises(UserError, match="coupons import") as err:
        report.raise_for_status()
    assert "--force does not override" in str(err.value)

    pool.write_text("AAA-001,20,2099-01-01\nAAA-004\nAAA-005\n")  # again, plus two
    result = import_pool(Db(db), pool, "dormant-q3")
    assert (result.imported, result.already) == (2, 1)
    report = run(spec, db, provider=dest, env=ENV)
    assert report.status == "succeeded" and report.coupons_assigned == 5
    codes = ledger(db, "dormant-q3")
    assert sorted(codes.values()) == ["AAA-001", "AAA-002", "AAA-003", "AAA-004", "AAA-005"]
    # the k-th person by id gets the k-th code imported; the file's value wins
    assert codes["p00001"] == "AAA-001" and dest.fields["p00001"]["code_value"] == 20
    assert dest.fields["p00002"]["code_value"] == 15  # no value in the file: the declared one
    assert str(dest.fields["p00001"]["expires"]).startswith("2099-01-01")
    assert all(f["code"] for f in dest.fields.values())


def test_expired_pool_codes_are_never_given(db, tmp_path: Path) -> None:
    spec = _pool_spec(tmp_path)
    make_audience(db, people(1, start=1))
    pool = tmp_path / "codes.csv"
    pool.write_text("OLD-1,,2099-01-01\nNEW-1\n")
    import_pool(Db(db), pool, "dormant-q3")
    db.execute("update activations.coupon_pool set expires_at = timestamp '2000-01-01' "
               "where code = 'OLD-1'")  # fmt: skip
    run(spec, db, provider=FieldsDestination(), env=ENV)
    assert ledger(db, "dormant-q3") == {"p00001": "NEW-1"}


@pytest.mark.parametrize(
    ("fields", "coupons", "message"),
    [
        ("code: coupon.code", "", "declares no `coupons:` block"),
        ("code: coupon.nope", "", "is not a column name"),
        ("code: coupon.code", "{campaign: c1}", "generated codes need a value"),
        ("code: coupon.code", "{campaign: c1, source: pool, prefix: X}", "only for generated"),
        ("code: coupon.code", "{campaign: c1, value: 5, alphabet: ABCDEFGHJKMNOPQRS}",
         "look-alike characters O"),
        ("code: coupon.code", "{campaign: c1, value: 5, length: 4}", "greater than or equal to 6"),
        ("code: coupon.code", "{campaign: Cart 24, value: 5}", "lower case"),
        ("code: coupon.code", "{campaign: c1, value: 5, source: shop}", "'generated' or 'pool'"),
    ],
)
def test_declaration_mistakes_are_named(tmp_path: Path, fields, coupons, message) -> None:
    block = f"    coupons: {coupons}\n" if coupons else ""
    path = write_spec(
        tmp_path,
        f"""syncs:
  - name: s1
    audience: carts
    provider: file
    destination: out/s1
    fields: {{{fields}}}
{block}""",
    )
    with pytest.raises(UserError, match=re.escape(message)) as err:
        parse_file(path)
    assert str(path) in str(err.value)


def test_a_missing_value_column_is_named(db, tmp_path: Path) -> None:
    spec = coupon_spec(tmp_path, "{campaign: c1, value_column: nope}")
    make_audience(db, people(2))
    with pytest.raises(UserError, match="coupons.value_column.*unknown column 'nope'"):
        run(spec, db, provider=FieldsDestination(), env=ENV)
