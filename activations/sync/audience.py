"""The audience a sync reads, as the plan sees it: the checks that it exists
with the columns the declaration names, and its snapshot: one row per audience
record with its identity key, normalised email, the hash of its mapped fields
and why it may not be sent (consent, the contact policy, a missing or
duplicate identity, an invalid email or, for SMS, phone number), in a
temporary table.

Channels (``registry.entry(provider).channel``): for an SMS provider the
snapshot's address column (``email``, as in the state tables) holds the
record's E.164 phone (the audience's ``phone_e164``), a row is sendable only
when the audience's ``channel`` decision says ``sms`` and
``core.sms_contact_policy`` agrees, and the last guard is "invalid phone
number" (E.164 pattern). For an email provider reading an audience that has
a ``channel`` column, rows whose decision is not ``email`` are not sendable
(reason ``channel decision: sms (sms_email_not_opened)``...). Audiences
without a ``channel`` column are synced as they always were.

Portable SQL on DuckDB and PostgreSQL (dialect bits in ``Db``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from activations.coupons.assign import SNAPSHOT_COLUMNS, snapshot_parts
from activations.coupons.spec import COUPON_COLUMNS
from activations.errors import UserError
from activations.providers import registry
from activations.sync.specs import SyncSpec
from activations.warehouse.db import Db

EMAIL_PATTERN = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
INVALID_EMAIL = "invalid email address"
# E.164: +, a country code not starting with 0, at most 15 digits in all
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"
INVALID_PHONE = "invalid phone number"
INVALID_ADDRESS = (INVALID_EMAIL, INVALID_PHONE)
REQUIRED_COLUMNS = ("is_sendable",)
#: the columns an SMS sync needs in its audience (apply_contact_policy channels=true)
SMS_COLUMNS = ("channel", "phone_e164")


def channel_of(spec: SyncSpec) -> str:
    """``email`` or ``sms``: what the sync's provider reaches a person by."""
    return registry.entry(spec.provider).channel


def invalid_reason(spec: SyncSpec) -> str:
    """The reason a record with an unusable address gets in this sync."""
    return INVALID_PHONE if channel_of(spec) == "sms" else INVALID_EMAIL


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_audience(spec: SyncSpec, db: Db) -> list[str]:
    schema, table = spec.audience_schema, spec.audience_table
    if not db.table_exists(schema, table):
        known = ", ".join(db.tables(schema)) or "(none yet)"
        raise UserError(
            f"{spec.where('audience')}: sync {spec.name!r}: audience table "
            f"{schema}.{table} does not exist in the warehouse",
            hint=f"build it first (`dbt build --select {table}`); tables in {schema}: {known}",
        )
    columns = db.columns(schema, table)
    lowered = {c.lower(): c for c in columns}
    wanted = [("identity", spec.identity)] + [
        (f"fields.{dest}", col) for dest, col in spec.fields.items() if col not in COUPON_COLUMNS
    ]
    if spec.coupons is not None:  # codes are given per person_id, valued by value_column
        wanted.append(("coupons", "person_id"))
        if spec.coupons.value_column:
            wanted.append(("coupons.value_column", spec.coupons.value_column))
    for path, col in wanted:
        if col.lower() not in lowered:
            raise UserError(
                f"{spec.where(*path.split('.', 1))}: sync {spec.name!r}: field `{path}`: "
                f"unknown column {col!r} in {schema}.{table}",
                hint=f"columns of {schema}.{table}: {', '.join(columns)}",
            )
    for col in REQUIRED_COLUMNS:
        if col not in lowered:
            raise UserError(
                f"{spec.where('audience')}: sync {spec.name!r}: audience {schema}.{table} has no "
                f"{col} column, so consent cannot be checked",
                hint="audience models share the contract person_id, email, entered_at, "
                "audience, is_sendable, suppression_reason, is_control",
            )
    if channel_of(spec) == "sms":
        missing = [c for c in SMS_COLUMNS if c not in lowered]
        if missing:
            raise UserError(
                f"{spec.where('audience')}: sync {spec.name!r}: {spec.provider} sends SMS, but "
                f"audience {schema}.{table} has no {' and no '.join(missing)} column, so "
                "nobody can be chosen for SMS",
                hint="build the audience with the channel decision: "
                "apply_contact_policy(..., channels=true) and the audience in var "
                "sms_fallback_audiences (README, 'The SMS channel')",
            )
    sendable_type = db.scalar(
        "select data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? and lower(column_name) = 'is_sendable'",
        [schema, table],
    )
    if str(sendable_type).lower() not in ("boolean", "bool"):
        raise UserError(
            f"{spec.where('audience')}: sync {spec.name!r}: audience {schema}.{table} column "
            f"is_sendable is {sendable_type}, not boolean, so consent cannot be checked",
            hint="the audience contract types is_sendable as boolean; rebuild the model "
            "(`activations build --select " + table + "`)",
        )
    return columns


def _part(db: Db, expr: str) -> str:
    """A column as an unambiguous piece of the canonical record text."""
    t = db.text(expr)
    return f"coalesce({db.text(f'length({t})')} || ':' || {t}, '~')"


def _policy(db: Db, lowered: set[str]) -> tuple[str, str]:
    """The join to ``core.contact_policy`` and its case, when both exist."""
    if "person_id" not in lowered or not db.table_exists("core", "contact_policy"):
        return "", ""
    policy_cols = {c.lower() for c in db.columns("core", "contact_policy")}
    if not {"person_id", "can_email_marketing"} <= policy_cols:
        return "", ""
    reason = "cp.reason" if "reason" in policy_cols else "cast(null as varchar)"
    join = f"left join core.contact_policy as cp on cp.person_id = {db.text('a.person_id')}"
    case = (
        "when cp.can_email_marketing = false "
        f"then 'contact policy: ' || coalesce({reason}, 'no marketing email')"
    )
    return join, case


QUIET_AT_SEND = "sms quiet hours (local time at send)"


def sending_now() -> datetime:
    """The moment the SMS quiet hours are checked against at send time (UTC, naive)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _sms_policy(db: Db, lowered: set[str]) -> tuple[str, str]:
    """The join to ``core.sms_contact_policy`` and its case (the SMS twin of
    ``_policy``: a last guard behind the audience's channel decision). The
    quiet hours were decided at the build's as_of; a sync running later checks
    the window again on each person's local clock now."""
    if "person_id" not in lowered or not db.table_exists("core", "sms_contact_policy"):
        return "", ""
    policy_cols = {c.lower() for c in db.columns("core", "sms_contact_policy")}
    flag = next((c for c in ("is_sms_sendable", "can_sms_marketing") if c in policy_cols), None)
    if flag is None or "person_id" not in policy_cols:
        return "", ""
    reason = "sp.reason" if "reason" in policy_cols else "cast(null as varchar)"
    join = f"left join core.sms_contact_policy as sp on sp.person_id = {db.text('a.person_id')}"
    case = (
        f"when sp.{flag} = false or sp.person_id is null "
        f"then 'sms contact policy: ' || coalesce({reason}, 'no marketing sms')"
    )
    if {"time_zone", "quiet_hours_start", "quiet_hours_end"} <= policy_cols:
        now = sending_now().strftime("%Y-%m-%d %H:%M:%S")
        hour = (
            f"cast(extract(hour from (cast('{now}' as timestamp) at time zone 'UTC') "
            "at time zone sp.time_zone) as integer)"
        )
        start, end = "sp.quiet_hours_start", "sp.quiet_hours_end"
        case += (
            f"\nwhen sp.time_zone is not null and case "
            f"when {start} > {end} then {hour} >= {start} or {hour} < {end} "
            f"when {start} < {end} then {hour} >= {start} and {hour} < {end} "
            f"else false end then '{QUIET_AT_SEND}'"
        )
    return join, case


def _channel_case(db: Db, lowered: set[str], channel: str) -> str:
    """Rows whose channel decision is not this sync's channel are not sendable."""
    if "channel" not in lowered:
        return ""
    why = (
        f"coalesce(' (' || {db.text('a.channel_reason')} || ')', '')"
        if "channel_reason" in lowered
        else "''"
    )
    return (
        f"when coalesce({db.text('a.channel')}, '') <> '{channel}' then 'channel decision: ' "
        f"|| coalesce({db.text('a.channel')}, 'none') || {why}"
    )


def snapshot(spec: SyncSpec, db: Db, columns: list[str], table: str) -> tuple[int, bool]:
    """Create temporary table ``table`` (record_key, email, record_hash, reason,
    f_0..f_n: the mapped fields in declaration order); the number of fields, and
    whether every record key is held by one row only (then a join on the key
    cannot repeat a row). For an SMS sync the ``email`` column holds the E.164
    phone (the address)."""
    lowered = {c.lower() for c in columns}
    channel = channel_of(spec)
    email_col = "a.email" if "email" in lowered else "cast(null as varchar)"
    email = f"lower(trim({db.text(email_col)}))"
    if channel == "sms":
        phone_col = "a.phone_e164" if "phone_e164" in lowered else "cast(null as varchar)"
        address = f"trim({db.text(phone_col)})"
        address_check = (
            f"when {address} is null or not {db.regex_match(address, PHONE_PATTERN)} "
            f"then '{INVALID_PHONE}'"
        )
    else:
        address = email
        address_check = (
            f"when {email} is null or not {db.regex_match(email, EMAIL_PATTERN)} "
            f"then '{INVALID_EMAIL}'"
        )
    key = email if spec.identity.lower() == "email" else db.text(f"a.{quote(spec.identity)}")
    coupons = snapshot_parts(spec.coupons, db) if spec.coupons is not None else None
    mapped = [
        coupons.column(col) if coupons and col in COUPON_COLUMNS else f"a.{quote(col)}"
        for col in spec.fields.values()
    ]
    canon_parts = [_part(db, address)] + [_part(db, m) for m in mapped]
    if spec.mode == "events" and "entered_at" in lowered:
        canon_parts.append(_part(db, "a.entered_at"))  # a re-entry is a new event
    header = "|".join(f"{d}={c}" for d, c in spec.fields.items()).replace("'", "''")
    record_hash = f"md5('{header}' || '|' || " + " || '|' || ".join(canon_parts) + ")"
    suppression = (
        f"coalesce('not sendable: ' || {db.text('a.suppression_reason')}, 'not sendable')"
        if "suppression_reason" in lowered
        else "'not sendable'"
    )
    if channel == "sms":
        # is_sendable is the email decision: an SMS row goes by its channel decision,
        # then the SMS contact policy
        policy_join, policy_case = _sms_policy(db, lowered)
        policy_case = _channel_case(db, lowered, "sms") + "\n" + policy_case
    else:
        policy_join, policy_case = _policy(db, lowered)
        policy_case = (
            f"when not coalesce(a.is_sendable, false) then {suppression}\n"
            + _channel_case(db, lowered, "email")
            + "\n"
            + policy_case
        )
    fcols = ", ".join(f"{m} as f_{i}" for i, m in enumerate(mapped))
    fcols = (", " + fcols) if fcols else ""
    outer = "".join(f", f_{i}" for i in range(len(mapped)))
    outer += "".join(f", {c}" for c in SNAPSHOT_COLUMNS) if coupons else ""

    def create(dup: str) -> None:
        db.execute(
            f"""create temp table {table} as
            select
                record_key, email, record_hash, reason{outer}
            from (
                select
                    k.*,
                    case
                        when k.base_reason is not null then k.base_reason
                        when k.dup > 1 then 'duplicate identity'
                        else null
                    end as reason
                from (
                    select
                        {key} as record_key,
                        {address} as email,
                        {record_hash} as record_hash,
                        case
                            when a.{quote(spec.identity)} is null then 'missing identity'
                            {policy_case}
                            {address_check}
                            else null
                        end as base_reason,
                        {dup} as dup
                        {fcols}
                        {coupons.extra if coupons else ""}
                    from {spec.audience_schema}.{quote(spec.audience_table)} as a
                    {policy_join}
                    {coupons.join if coupons else ""}
                ) as k
            ) as s"""
        )

    # a key held by several rows keeps the one with the lowest hash; the others are
    # 'duplicate identity'. Audiences have one row per person (their contract), so the
    # snapshot is built without that window (a sort of the whole audience) and built
    # again with it only when a key does repeat
    create("1")
    unique = not db.scalar(
        f"select count(*) from (select record_key from {table} "
        "group by record_key having count(*) > 1) as d"
    )
    if not unique:
        db.execute(f"drop table {table}")
        create(f"row_number() over (partition by {key} order by {record_hash})")
    return len(mapped), unique
