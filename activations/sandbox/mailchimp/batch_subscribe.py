"""Mailchimp's batch subscribe or update (``POST /lists/{list_id}``), with the
compliance state: an unsubscribed or cleaned member cannot be subscribed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.common import valid_email as email_ok
from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.mailchimp.model import (
    LOCKED,
    STATUSES,
    ensure_list,
    member_id,
    member_view,
    merge_problem,
    set_tags,
    write_member,
)
from activations.sandbox.mailchimp.wire import MAX_MEMBERS, NAME, body_of, compliance, invalid

router = APIRouter()


@router.post("/lists/{list_id}")
async def batch(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    members = body.get("members")
    if not isinstance(members, list):
        raise invalid("The resource submitted could not be validated.", "members",
                      "Required property members was not present.")
    if len(members) > MAX_MEMBERS:
        raise invalid("The resource submitted could not be validated. For field-specific "
                      "details, see the 'errors' array.", "members",
                      f"Schema describes array with at most {MAX_MEMBERS} items, "
                      f"{len(members)} given.")
    ensure_list(sb, list_id)
    update_existing = bool(body.get("update_existing", False))
    sync_tags = bool(body.get("sync_tags", False))
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []

    def fail(email: Any, message: str, code: str = "ERROR_GENERIC", field: str = "",
             field_message: str = "") -> None:
        errors.append({"email_address": email, "error": message, "error_code": code,
                       "field": field, "field_message": field_message or message})

    with sb.store.tx():  # one commit for the whole batch
        for member in members:
            outcome = batch_member(sb, list_id, member, update_existing, sync_tags, fail)
            if outcome is not None:
                is_new, view = outcome
                (created if is_new else updated).append(view)
    return JSONResponse({"new_members": created, "updated_members": updated,
                         "errors": errors, "total_created": len(created),
                         "total_updated": len(updated), "error_count": len(errors),
                         "_links": []})


def batch_member(sb: Sandbox, list_id: str, member: Any, update_existing: bool,
                 sync_tags: bool, fail: Callable[..., None]) -> tuple[bool, dict[str, Any]] | None:
    """One member of a batch: (whether it is new, its view), or None once ``fail`` is told."""
    email = member.get("email_address") if isinstance(member, dict) else None
    if not email_ok(email):
        fail(email, f"{email} looks fake or invalid, please enter a real email "
             "address.", field="email_address")
        return None
    trouble = merge_problem(sb, list_id, member.get("merge_fields"))
    if trouble is not None:
        fail(email, trouble[1], field=trouble[0])
        return None
    status, status_if_new = member.get("status"), member.get("status_if_new")
    for value in (status, status_if_new):
        if value is not None and value not in STATUSES:
            fail(email, f"Invalid status {value!r}.", field="status")
            return None
    existing = sb.store.get_contact(NAME, member_id(list_id, email))
    if existing is not None:
        if not update_existing:
            fail(email, f"{email} is already a list member. Use PUT to insert or "
                 "update list members.", code="ERROR_CONTACT_EXISTS")
            return None
        current = existing.consent.get("status")
        if status in ("subscribed", "pending") and current in LOCKED and not (
                status == "pending" and current == "unsubscribed"):
            fail(email, compliance(email), field="status",
                 field_message="Member In Compliance State")
            return None
        contact = write_member(sb, list_id, member, existing, status)
        is_new = False
    else:
        chosen = status_if_new or status
        if chosen is None:
            fail(email, "status or status_if_new is required for a new member.",
                 field="status")
            return None
        contact = write_member(sb, list_id, member, None, chosen)
        is_new = True
    tags = member.get("tags")
    if isinstance(tags, list):
        set_tags(sb, contact, list_id, [str(t) for t in tags], replace=sync_tags)
    return is_new, member_view(sb, contact)
