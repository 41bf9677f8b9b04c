"""A CSV of customers, with or without orders: ``activations import customers``.

Read with the machinery of the order CSV (``csv_mapping``: the same ``--map`` /
``--mapping`` YAML, delimiter detection, header check, unparsable records as
``malformed_line``, file line numbers); only the fields and the SELECT that turns
a record into an import line differ. One row is one customer; ids become
``<namespace>-<customer_id>`` (namespace ``csv`` unless given), the same ids an
order CSV of the same shop gives, so both imports meet on one person.

Consent: ``consent_status`` (with ``consent_date``, when it took that status, and
``consent_source``, where the shop got it) becomes one row of ``raw.consents`` with
source ``import``. A double opt-in is only recorded when the file gives its date
(``double_opt_in_date``): a status alone never makes a confirmed subscriber.
"""

from __future__ import annotations

from pathlib import Path

from activations.imports.formats.csv_mapping import (
    MALFORMED_LINES,
    SOURCE_CTES,
    CsvKind,
    col,
    resolve,
    row_json,
)
from activations.imports.lines import FormatSpec, Stager, utc_timestamp_sql
from activations.imports.lines import sql_literal as lit

REQUIRED = ("customer_id", "created_at")
OPTIONAL = (
    "email",
    "first_name",
    "last_name",
    "country",
    "phone",
    "birth_date",
    "consent_status",
    "consent_date",
    "consent_source",
    "double_opt_in_date",
)

# the file's consent status (lower case, '-' and ' ' as '_') -> the consent log's;
# 'none': the person never subscribed, so there is no change to record
CONSENT_STATUSES: dict[str, str] = {
    **dict.fromkeys(
        ("subscribed", "subscribe", "opted_in", "opt_in", "optin", "yes", "y", "true", "1"),
        "subscribed",
    ),
    # asked, confirmation pending: subscribed without a double opt-in
    **dict.fromkeys(("pending", "unconfirmed"), "pending"),
    **dict.fromkeys(
        ("unsubscribed", "unsubscribe", "opted_out", "opt_out", "optout"), "unsubscribed"
    ),
    **dict.fromkeys(("bounced", "cleaned", "hard_bounce"), "bounced"),
    **dict.fromkeys(("spam_complaint", "spam", "complained", "complaint"), "spam_complaint"),
    **dict.fromkeys(
        ("none", "not_subscribed", "never_subscribed", "no", "n", "false", "0"), "none"
    ),
}


def lines_sql(columns: dict[str, str], header: list[str], date_format: str | None) -> str:
    c = {f: col(columns, f) for f in CUSTOMERS.fields}
    row = row_json(header)
    created = utc_timestamp_sql(c["created_at"], date_format)
    consent_at = utc_timestamp_sql(c["consent_date"], date_format)
    confirmed_at = utc_timestamp_sql(c["double_opt_in_date"], date_format)
    birth = (
        f"coalesce(cast(try_strptime({c['birth_date']}, {lit(date_format)}) as date), "
        f"try_cast({c['birth_date']} as date))"
        if date_format
        else f"try_cast({c['birth_date']} as date)"
    )
    statuses = " ".join(f"when {lit(k)} then {lit(v)}" for k, v in CONSENT_STATUSES.items())
    typed = f"regexp_replace(lower({c['consent_status']}), '[- ]+', '_', 'g')"
    status = f"case {typed} {statuses} end"
    customer = f"regexp_replace({c['customer_id']}, '^([0-9]+)\\.0+$', '\\1')"
    return f"""
    with {SOURCE_CTES},
    parsed as (
        select
            *,
            {status} as _status,
            {created} as _created_at,
            {consent_at} as _consent_at,
            {confirmed_at} as _confirmed_at,
            {birth} as _birth_date
        from src
    )
    select
        _file_line as line_number,
        {row} as raw_line,
        case
            when {c["created_at"]} is not null and _created_at is null then 'bad_date'
            when {c["birth_date"]} is not null and _birth_date is null then 'bad_date'
            when {c["consent_date"]} is not null and _consent_at is null then 'bad_date'
            when {c["double_opt_in_date"]} is not null and _confirmed_at is null then 'bad_date'
            when {c["consent_status"]} is not null and _status is null then 'bad_consent_status'
        end as reason,
        {customer} as customer_key,
        {c["email"]} as email,
        {c["first_name"]} as first_name,
        {c["last_name"]} as last_name,
        case when length({c["country"]}) = 2 then upper({c["country"]}) end as country,
        {c["phone"]} as phone,
        _birth_date as birth_date,
        _created_at as created_at,
        case when _status = 'pending' then 'subscribed' when _status <> 'none' then _status end
            as consent_status,
        case when _status not in ('none') then _consent_at end as consent_changed_at,
        {c["consent_source"]} as consent_source,
        -- a double opt-in only with the date the file gives, and only for a subscription
        case when _status = 'subscribed' then _confirmed_at end as double_opt_in_confirmed_at,
        {row} as dedupe_key
    from parsed as src  -- the columns keep their names: src."Email"
    union all by name
    {MALFORMED_LINES}
    """


CUSTOMERS = CsvKind(
    format="customers-csv",
    entity="customers",
    required=REQUIRED,
    optional=OPTIONAL,
    lines_sql=lines_sql,
)


def plan(
    path: Path,
    namespace: str | None,
    *,
    mapping: dict[str, str] | None = None,
    mapping_file: Path | None = None,
    date_format: str | None = None,
) -> tuple[FormatSpec, Stager]:
    """The spec and stager of a customer CSV, from its mapping (``csv_mapping.resolve``)."""
    resolved = resolve(
        path,
        mapping=mapping,
        mapping_file=mapping_file,
        namespace=namespace,
        date_format=date_format,
        kind=CUSTOMERS,
    )
    return resolved.spec, resolved.stage
