"""SendGrid Marketing Campaigns: contact upserts (async job), import status,
identifier search, lists, custom field definitions and suppressions.

Consent is faithful to SendGrid: unsubscribes, bounces and spam reports live
in suppression lists, independent of contacts; upserting a contact or adding
it to a list never clears a suppression.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, Response

from activations.sandbox import validation
from activations.sandbox.common import Reply, bearer, body_reader, iso, valid_email
from activations.sandbox.core import ProviderSpec, Sandbox, Webhook
from activations.sandbox.limits import Decision, throttled_headers
from activations.sandbox.store import Contact, ListRow

NAME = "sendgrid"
MAX_CONTACTS = 30_000
MAX_BODY = 6 * 1024 * 1024
MAX_IDENTIFIERS = 100
RESERVED = ("first_name", "last_name", "address_line_1", "address_line_2", "city",
            "state_province_region", "postal_code", "country", "alternate_emails",
            "unique_name")
IDENTIFIERS = {"email": "email", "external_id": "external_id",
               "phone_number_id": "phone", "anonymous_id": "anonymous_id"}
FIELD_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TYPE_SUFFIX = {"Text": "T", "Number": "N", "Date": "D"}
SUPPRESSION_KINDS = {"unsubscribe": "global", "bounce": "bounce", "spam": "spam"}
WEBHOOK_EVENTS = {"unsubscribe": "unsubscribe", "bounce": "bounce", "spam": "spamreport",
                  "open": "open", "click": "click"}


def error(status: int, message: str, field: str | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"field": field, "message": message}]}, status_code=status,
                        headers=headers)


def bad(message: str, field: str | None = None) -> Reply:
    return Reply(error(400, message, field))


def authenticate(headers: Headers, key: str) -> str | None:
    presented = bearer(headers)
    return presented if presented and presented == key else None


def unauthorized() -> Response:
    return error(401, "authorization required")


def throttled(decision: Decision) -> Response:
    return error(429, "too many requests", headers=throttled_headers(NAME, decision))


def server_error(status: int) -> Response:
    return error(status, "internal server error (sandbox fault); retry later")


def too_large(size: int) -> Response:
    return error(413, f"request body of {size} bytes exceeds the 6 MB limit")


def count_records(method: str, path: str, body: Any) -> int | None:
    for key in ("contacts", "identifiers", "recipient_emails"):
        if isinstance(body.get(key), list):
            return len(body[key])
    return None


def field_path(pointer: str | None) -> str | None:
    """``/contacts/0/first_name`` -> ``contacts[0].first_name`` (SendGrid's field style)."""
    if not pointer or pointer == "/":
        return None
    out = ""
    for part in pointer.strip("/").split("/"):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


# -- contacts ----------------------------------------------------------------------
def custom_fields(sb: Sandbox) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in sb.store.fields(NAME, "")}


def contact_view(sb: Sandbox, contact: Contact) -> dict[str, Any]:
    fields = custom_fields(sb)
    custom = {fields[k]["name"]: v for k, v in contact.attributes.get("custom_fields", {}).items()
              if k in fields}
    return {
        "id": contact.id, "email": contact.email, "external_id": contact.external_id,
        "phone_number_id": contact.phone, "anonymous_id": contact.attributes.get("anonymous_id"),
        **{k: contact.attributes.get(k) for k in RESERVED},
        "list_ids": sb.store.lists_of(NAME, contact.id),
        "custom_fields": custom,
        "created_at": iso(contact.created_at), "updated_at": iso(contact.updated_at),
    }


def find(sb: Sandbox, record: dict[str, Any]) -> Contact | None:
    email = record.get("email")
    return sb.store.find_contact(
        NAME, email=email.lower() if isinstance(email, str) else None,
        external_id=record.get("external_id"), phone=record.get("phone_number_id"))


def record_problem(sb: Sandbox, record: dict[str, Any],
                   fields: dict[str, dict[str, Any]]) -> str | None:
    if not any(record.get(k) for k in IDENTIFIERS):
        return "a contact needs one of email, phone_number_id, external_id or anonymous_id"
    if record.get("email") is not None and not valid_email(record["email"]):
        return f"email {record['email']!r} is not a valid email address"
    existing = find(sb, record)
    if existing is not None:
        have = {"email": existing.email, "external_id": existing.external_id,
                "phone_number_id": existing.phone}
        for key, value in have.items():
            given = record.get(key)
            given = given.lower() if key == "email" and isinstance(given, str) else given
            if value and given != value:
                return (f"to update contact {existing.id} every existing identifier must be "
                        f"given unchanged; {key} is {'missing' if given is None else 'different'}")
    for field_id, value in (record.get("custom_fields") or {}).items():
        definition = fields.get(field_id)
        if definition is None:
            return f"custom field {field_id!r} does not exist; create it in field_definitions"
        if definition["type"] == "Number" and not isinstance(value, int | float):
            return f"custom field {field_id!r} is a Number; got {value!r}"
    return None


def complete_upsert(sb: Sandbox, job: dict[str, Any]) -> None:
    payload = job["payload"]
    fields = custom_fields(sb)
    created = updated = 0
    errors: list[dict[str, Any]] = []
    ids: list[str] = []
    now = sb.now()
    for index, record in enumerate(payload.pop("contacts")):
        problem = record_problem(sb, record, fields)
        if problem is not None:
            errors.append({"row": index, "email": record.get("email") or "",
                           "external_id": record.get("external_id") or "", "error": problem})
            continue
        contact = find(sb, record)
        if contact is None:
            contact = Contact(provider=NAME, id=str(uuid.uuid4()), created_at=now)
            created += 1
        else:
            updated += 1
        if record.get("email"):
            contact.email = record["email"].lower()
        if record.get("external_id"):
            contact.external_id = record["external_id"]
        if record.get("phone_number_id"):
            contact.phone = record["phone_number_id"]
        for key in (*RESERVED, "anonymous_id"):
            if key in record:
                contact.attributes[key] = record[key]
        if record.get("custom_fields"):
            contact.attributes.setdefault("custom_fields", {}).update(record["custom_fields"])
        contact.updated_at = now
        sb.store.save_contact(contact)
        ids.append(contact.id)
    for list_id in payload["list_ids"]:
        sb.store.add_members(NAME, list_id, ids, now)
    payload["errors"] = errors
    job["result"] = {"created_count": created, "updated_count": updated,
                     "errored_count": len(errors)}
    total = payload["requested"]
    job["status"] = ("completed" if not errors else "failed" if len(errors) == total
                     else "errored")


def job_view(job: dict[str, Any]) -> dict[str, Any]:
    result = job["result"]
    errors_url = (job["payload"]["errors_url"] if job["done"] and result.get("errored_count")
                  else None)
    return {
        "id": job["id"], "status": job["status"], "job_type": job["payload"]["job_type"],
        "results": {
            "requested_count": job["payload"]["requested"],
            "created_count": result.get("created_count", 0),
            "updated_count": result.get("updated_count", 0),
            "deleted_count": result.get("deleted_count", 0),
            "errored_count": result.get("errored_count", 0),
            **({"errors_url": errors_url} if errors_url else {}),
        },
        "started_at": iso(job["started_at"]), "finished_at": iso(job["finished_at"]),
    }


# -- the person's action in SendGrid -----------------------------------------------
def act(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
    now = sb.now()
    event: dict[str, Any] = {"email": email, "timestamp": int(now),
                             "event": WEBHOOK_EVENTS[action], "sg_event_id": uuid.uuid4().hex,
                             "sg_message_id": "sandbox"}
    if action in SUPPRESSION_KINDS:
        reason = "550 5.1.1 mailbox unavailable" if action == "bounce" else ""
        sb.store.add_suppression(NAME, email, SUPPRESSION_KINDS[action], now, reason=reason)
    if action == "bounce":
        event.update({"type": "bounce", "reason": "550 5.1.1 mailbox unavailable",
                      "status": "5.1.1"})
    contact = sb.store.find_contact(NAME, email=email)
    sb.store.add_event(NAME, contact.id if contact else None, WEBHOOK_EVENTS[action],
                       event, now)
    return Webhook([event])


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    suppressions = sb.store.suppressions(NAME)
    by_email: dict[str, list[str]] = {}
    for s in suppressions:
        by_email.setdefault(s["email"], []).append(s["kind"])
    fields = custom_fields(sb)
    lists = []
    for row in sb.store.lists(NAME):
        ids = sb.store.member_ids(NAME, row.id)
        members = []
        for c in sb.store.contacts(NAME, ids=ids[:limit]):
            attributes = {k: v for k, v in c.attributes.items()
                          if k not in ("custom_fields",) and v is not None}
            attributes.update({fields[k]["name"]: v
                               for k, v in c.attributes.get("custom_fields", {}).items()
                               if k in fields})
            if c.external_id:
                attributes["external_id"] = c.external_id
            kinds = by_email.get(c.email or "", [])
            members.append({"id": c.id, "email": c.email, "attributes": attributes,
                            "consent": ("suppressed: " + ", ".join(kinds)) if kinds
                            else "not suppressed", "subscribed": not kinds})
        lists.append({"id": row.id, "name": row.name, "kind": row.kind,
                      "auto_created": row.auto_created, "member_count": len(ids),
                      "members": members})
    return {"lists": lists, "contacts": sb.store.count_contacts(NAME),
            "suppressions": [{"email": s["email"], "kind": s["kind"], "list_id": s["list_id"],
                              "created_at": s["created_at"]} for s in suppressions],
            "events": sb.store.count_events(NAME)}


def suppression_rows(sb: Sandbox, request: Request, kind: str) -> list[dict[str, Any]]:
    params = request.query_params
    start = float(params.get("start_time", 0) or 0)
    end = float(params.get("end_time", 1e12) or 1e12)
    rows = [s for s in sb.store.suppressions(NAME, kind) if start <= s["created_at"] <= end]
    offset = int(params.get("offset", 0) or 0)
    limit = int(params.get("limit", 500) or 500)
    return rows[offset:offset + limit]


# -- the router -------------------------------------------------------------------------
def build(sb: Sandbox) -> ProviderSpec:
    sb.jobs.on_complete(NAME, "contacts-upsert", lambda job: complete_upsert(sb, job))

    async def guard(request: Request) -> None:
        path = request.url.path[len("/" + NAME):]
        if path.startswith("/files/"):
            return
        violations = validation.validate(NAME, request.method, path,
                                         request.query_params.multi_items(),
                                         request.headers, await request.body())
        if violations:
            first = violations[0]
            raise bad(first.message, first.parameter or field_path(first.pointer))

    router = APIRouter(dependencies=[Depends(guard)])

    body_of = body_reader(bad)

    @router.put("/v3/marketing/contacts")
    async def upsert(request: Request) -> JSONResponse:
        body = await body_of(request)
        contacts = body.get("contacts") or []
        if not 1 <= len(contacts) <= MAX_CONTACTS:
            raise bad(f"contacts must hold 1 to {MAX_CONTACTS} items; got {len(contacts)}",
                      "contacts")
        list_ids = list(body.get("list_ids") or [])
        for list_id in list_ids:
            if sb.store.get_list(NAME, list_id) is None:
                sb.store.add_list(ListRow(NAME, list_id, list_id, "list", auto_created=True,
                                          created_at=sb.now()))
        job_id = str(uuid.uuid4())
        base = str(request.base_url).rstrip("/")
        sb.jobs.create(NAME, "contacts-upsert", ["pending", "completed"], {
            "contacts": contacts, "list_ids": list_ids, "requested": len(contacts),
            "job_type": "upsert",
            "errors_url": f"{base}/{NAME}/files/import-errors/{job_id}.csv"}, job_id=job_id)
        return JSONResponse({"job_id": job_id}, status_code=202)

    @router.get("/v3/marketing/contacts/imports/{job_id}")
    async def import_status(job_id: str) -> JSONResponse:
        job = sb.jobs.poll(NAME, job_id)
        if job is None:
            return error(404, f"job {job_id} not found", "id")
        return JSONResponse(job_view(job))

    @router.get("/files/import-errors/{job_id}.csv")
    async def import_errors(job_id: str) -> Response:
        job = sb.jobs.get(NAME, job_id)
        if job is None or not job["done"]:
            return error(404, f"no error file for job {job_id}")
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["email", "external_id", "error"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(job["payload"]["errors"])
        return PlainTextResponse(out.getvalue(), media_type="text/csv")

    @router.post("/v3/marketing/contacts/search/identifiers/{identifier_type}")
    async def search(request: Request, identifier_type: str) -> JSONResponse:
        if identifier_type not in IDENTIFIERS:
            raise bad(f"identifier_type must be one of {', '.join(IDENTIFIERS)}",
                      "identifier_type")
        body = await body_of(request)
        identifiers = body.get("identifiers") or []
        if len(identifiers) > MAX_IDENTIFIERS:
            raise bad(f"at most {MAX_IDENTIFIERS} identifiers per request; got "
                      f"{len(identifiers)}", "identifiers")
        result: dict[str, Any] = {}
        for value in identifiers:
            key = value.lower() if identifier_type == "email" else value
            contact = sb.store.find_contact(NAME, **{IDENTIFIERS[identifier_type]: key}) \
                if identifier_type != "anonymous_id" else None
            result[value] = ({"contact": contact_view(sb, contact)} if contact
                             else {"error": "contact not found"})
        return JSONResponse({"result": result})

    @router.get("/v3/marketing/lists")
    async def get_lists(request: Request) -> JSONResponse:
        rows = sb.store.lists(NAME, kind="list")
        size = int(request.query_params.get("page_size", 100) or 100)
        return JSONResponse({"result": [list_view(request, r) for r in rows[:size]],
                             "_metadata": {"self": str(request.url), "count": len(rows)}})

    def list_view(request: Request, row: ListRow) -> dict[str, Any]:
        return {"id": row.id, "name": row.name,
                "contact_count": sb.store.count_members(NAME, row.id),
                "_metadata": {"self": f"{request.base_url}{NAME}/v3/marketing/lists/{row.id}"}}

    @router.post("/v3/marketing/lists")
    async def create_list(request: Request) -> JSONResponse:
        body = await body_of(request)
        name = str(body.get("name") or "")
        if any(r.name == name for r in sb.store.lists(NAME, kind="list")):
            raise bad(f"a list named {name!r} already exists", "name")
        row = sb.store.add_list(ListRow(NAME, str(uuid.uuid4()), name, "list",
                                        created_at=sb.now()))
        return JSONResponse(list_view(request, row), status_code=201)

    @router.delete("/v3/marketing/lists/{list_id}/contacts")
    async def remove_from_list(request: Request, list_id: str) -> JSONResponse:
        if sb.store.get_list(NAME, list_id) is None:
            return error(404, f"list {list_id} not found", "id")
        ids = [i for i in request.query_params.get("contact_ids", "").split(",") if i]
        if not ids:
            raise bad("contact_ids is required", "contact_ids")
        sb.store.remove_members(NAME, list_id, ids)
        job = sb.jobs.create(NAME, "list-remove", ["completed"],
                             {"requested": len(ids), "job_type": "delete"})
        return JSONResponse({"job_id": job["id"]}, status_code=202)

    @router.get("/v3/marketing/field_definitions")
    async def get_fields() -> JSONResponse:
        fields = [{"id": f["id"], "name": f["name"], "field_type": f["type"]}
                  for f in sb.store.fields(NAME, "")]
        reserved = [{"id": f"_rf{i}_T", "name": name, "field_type": "Text", "read_only": False}
                    for i, name in enumerate(("first_name", "last_name", "email",
                                              "external_id", *RESERVED[2:]))]
        return JSONResponse({"custom_fields": fields, "reserved_fields": reserved,
                             "_metadata": {"self": "field_definitions"}})

    @router.post("/v3/marketing/field_definitions")
    async def create_field(request: Request) -> JSONResponse:
        body = await body_of(request)
        name, field_type = str(body.get("name", "")), body.get("field_type")
        if not FIELD_NAME_RE.match(name):
            raise bad("field names hold letters, digits and _ and do not start with a digit",
                      "name")
        if field_type not in TYPE_SUFFIX:
            raise bad("field_type must be Text, Number or Date", "field_type")
        existing = sb.store.fields(NAME, "")
        if any(f["name"] == name for f in existing) or name in RESERVED:
            raise bad(f"a field named {name!r} already exists", "name")
        if len(existing) >= 500:
            raise bad("at most 500 custom fields", "name")
        field_id = f"e{sb.store.next_counter('sendgrid-field')}_{TYPE_SUFFIX[field_type]}"
        sb.store.add_field(NAME, "", field_id, name, field_type)
        return JSONResponse({"id": field_id, "name": name, "field_type": field_type,
                             "_metadata": {"self": f"field_definitions/{field_id}"}})

    def dated(rows: list[dict[str, Any]], extra: dict[str, str] | None = None
              ) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            item: dict[str, Any] = {"email": row["email"], "created": int(row["created_at"])}
            for key, column in (extra or {}).items():
                item[key] = row[column] if column in row else column
            out.append(item)
        return out

    @router.get("/v3/asm/suppressions/global")
    async def global_unsubscribes(request: Request) -> JSONResponse:
        return JSONResponse(dated(suppression_rows(sb, request, "global")))

    @router.get("/v3/suppression/unsubscribes")
    async def unsubscribes(request: Request) -> JSONResponse:
        return JSONResponse(dated(suppression_rows(sb, request, "global")))

    @router.get("/v3/suppression/bounces")
    async def bounces(request: Request) -> JSONResponse:
        rows = suppression_rows(sb, request, "bounce")
        return JSONResponse([{"email": r["email"], "created": int(r["created_at"]),
                              "reason": r["reason"], "status": "5.1.1"} for r in rows])

    @router.get("/v3/suppression/spam_reports")
    async def spam_reports(request: Request) -> JSONResponse:
        rows = suppression_rows(sb, request, "spam")
        return JSONResponse([{"email": r["email"], "created": int(r["created_at"]),
                              "ip": "127.0.0.1"} for r in rows])

    async def add_suppressions(request: Request, kind: str, list_id: str) -> JSONResponse:
        body = await body_of(request)
        emails = [e.lower() for e in body.get("recipient_emails") or []]
        for email in emails:
            if not valid_email(email):
                raise bad(f"{email!r} is not a valid email address", "recipient_emails")
        for email in emails:
            sb.store.add_suppression(NAME, email, kind, sb.now(), list_id=list_id)
        return JSONResponse({"recipient_emails": emails}, status_code=201)

    @router.post("/v3/asm/suppressions/global")
    async def suppress_global(request: Request) -> JSONResponse:
        return await add_suppressions(request, "global", "")

    @router.post("/v3/asm/groups/{group_id}/suppressions")
    async def suppress_group(request: Request, group_id: str) -> JSONResponse:
        return await add_suppressions(request, "group", group_id)

    return ProviderSpec(
        name=NAME, router=router, authenticate=authenticate, unauthorized=unauthorized,
        throttled=throttled, server_error=server_error, count_records=count_records,
        act=act, summarize=summarize, max_body_bytes=MAX_BODY, too_large=too_large,
        public_prefixes=("/sendgrid/files/",),
        bad_request=lambda message: error(400, message))
