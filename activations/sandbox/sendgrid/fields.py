"""SendGrid custom field definitions: list and create."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.sendgrid.model import RESERVED
from activations.sandbox.sendgrid.wire import NAME, bad, body_of

FIELD_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TYPE_SUFFIX = {"Text": "T", "Number": "N", "Date": "D"}

router = APIRouter()


@router.get("/v3/marketing/field_definitions")
async def get_fields(sb: SandboxDep) -> JSONResponse:
    fields = [{"id": f["id"], "name": f["name"], "field_type": f["type"]}
              for f in sb.store.fields(NAME, "")]
    reserved = [{"id": f"_rf{i}_T", "name": name, "field_type": "Text", "read_only": False}
                for i, name in enumerate(("first_name", "last_name", "email",
                                          "external_id", *RESERVED[2:]))]
    return JSONResponse({"custom_fields": fields, "reserved_fields": reserved,
                         "_metadata": {"self": "field_definitions"}})


@router.post("/v3/marketing/field_definitions")
async def create_field(request: Request, sb: SandboxDep) -> JSONResponse:
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
