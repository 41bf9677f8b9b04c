"""Braze subscription writes: subscription group states and the email
subscription state (remembered for emails not yet on a profile)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.braze.model import SUBSCRIBE_STATES, find_user, set_email_subscribe
from activations.sandbox.braze.wire import MAX_IDS, NAME, body_of, fatal
from activations.sandbox.common import norm_email, valid_email
from activations.sandbox.core import SandboxDep
from activations.sandbox.store import Contact

router = APIRouter()


@router.post("/v2/subscription/status/set")
async def subscription_status(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    groups = body.get("subscription_groups")
    if not isinstance(groups, list) or not groups:
        return fatal(400, "'subscription_groups' must be a non-empty array")
    for group in groups:
        state = group.get("subscription_state")
        if not group.get("subscription_group_id") or state not in ("subscribed",
                                                                   "unsubscribed"):
            return fatal(400, "Each group needs subscription_group_id and "
                         "subscription_state subscribed or unsubscribed")
        if group.get("emails") and group.get("phones"):
            return fatal(400, "emails and phones cannot be mixed in one group entry")
        for key in ("external_ids", "emails", "phones"):
            if len(group.get(key) or []) > MAX_IDS:
                return fatal(400, f"At most {MAX_IDS} {key} per group entry")
    for group in groups:
        gid, state = str(group["subscription_group_id"]), group["subscription_state"]
        targets: list[Contact] = []
        for ext in group.get("external_ids") or []:
            targets += [c for c in [find_user(sb, {"external_id": ext})] if c]
        for email in group.get("emails") or []:  # every user sharing that email
            targets += [c for c in sb.store.contacts(NAME) if c.email == norm_email(email)]
        for phone in group.get("phones") or []:
            targets += [c for c in sb.store.contacts(NAME) if c.phone == str(phone)]
        for contact in targets:
            contact.consent.setdefault("subscription_groups", {})[gid] = state
            contact.updated_at = sb.now()
            sb.store.save_contact(contact)
    return JSONResponse({"message": "success"}, status_code=201)


@router.post("/email/status")
async def email_status(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    emails = body.get("email")
    emails = [emails] if isinstance(emails, str) else emails
    state = body.get("subscription_state")
    if not isinstance(emails, list) or not emails or state not in SUBSCRIBE_STATES:
        return fatal(400, "'email' (one or up to 50) and 'subscription_state' "
                     "(subscribed, unsubscribed or opted_in) are required")
    if len(emails) > MAX_IDS:
        return fatal(400, f"At most {MAX_IDS} emails per request; got {len(emails)}")
    for raw in emails:
        email = norm_email(raw)
        if not valid_email(email):
            return fatal(400, f"Invalid email address: {raw!r}")
        users = [c for c in sb.store.contacts(NAME) if c.email == email]
        for contact in users:
            set_email_subscribe(sb, contact, state)
            contact.updated_at = sb.now()
            sb.store.save_contact(contact)
        sb.store.remove_suppression(NAME, str(email), "email_state")
        if not users:
            sb.store.add_suppression(NAME, str(email), "email_state", sb.now(),
                                     reason=state)
    return JSONResponse({"message": "success"}, status_code=201)
