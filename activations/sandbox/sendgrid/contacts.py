"""SendGrid contact upserts (an async job, applied when it completes), the
import status and its error file, and the search by identifier."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from activations.sandbox.common import iso, valid_email
from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.sendgrid.model import (
    IDENTIFIERS,
    RESERVED,
    contact_view,
    custom_fields,
    find,
)
from activations.sandbox.sendgrid.wire import NAME, bad, body_of, error
from activations.sandbox.store import Contact, ListRow

MAX_CONTACTS = 30_000
MAX_IDENTIFIERS = 100

router = APIRouter()


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
        sb.count_write(NAME, contact.external_id or contact.email, record)
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


@router.put("/v3/marketing/contacts")
async def upsert(request: Request, sb: SandboxDep) -> JSONResponse:
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
async def import_status(job_id: str, sb: SandboxDep) -> JSONResponse:
    job = sb.jobs.poll(NAME, job_id)
    if job is None:
        return error(404, f"job {job_id} not found", "id")
    return JSONResponse(job_view(job))


@router.get("/files/import-errors/{job_id}.csv")
async def import_errors(job_id: str, sb: SandboxDep) -> Response:
    job = sb.jobs.get(NAME, job_id)
    if job is None or not job["done"]:
        return error(404, f"no error file for job {job_id}")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["email", "external_id", "error"],
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(job["payload"].get("errors", []))
    return PlainTextResponse(out.getvalue(), media_type="text/csv")


@router.post("/v3/marketing/contacts/search/identifiers/{identifier_type}")
async def search(request: Request, identifier_type: str, sb: SandboxDep) -> JSONResponse:
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
