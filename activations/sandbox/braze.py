"""Braze: ``/users/track`` (attributes, events, purchases), user deletion,
subscription groups, email subscription state and the reads used for the
pull-back (unsubscribes, hard bounces, user export).

Consent is faithful to Braze: nothing protects an unsubscribed user from an
API write; the last write wins. Audience membership is the custom array
attribute ``audiences``; the page shows one "list" per value.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox.common import (
    Reply,
    bearer,
    body_reader,
    iso,
    norm_email,
    parse_time,
    valid_email,
)
from activations.sandbox.core import ProviderSpec, Sandbox, Webhook
from activations.sandbox.limits import Decision, throttled_headers
from activations.sandbox.store import Contact

NAME = "braze"
MAX_PER_ARRAY = 75
MAX_IDS = 50
AUDIENCE_ATTRIBUTE = "audiences"
SUBSCRIBE_STATES = ("opted_in", "subscribed", "unsubscribed")
IDENTIFIER_ERROR = "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"
IDENTIFIER_KEYS = ("external_id", "braze_id", "user_alias", "email", "phone")
NOT_ATTRIBUTES = ("external_id", "braze_id", "user_alias", "_update_existing_only",
                  "email", "phone", "email_subscribe", "subscription_groups")
WEBHOOK_TYPES = {"unsubscribe": "Unsubscribe", "bounce": "Bounce", "spam": "MarkAsSpam",
                 "open": "Open", "click": "Click"}


def fatal(status: int, message: str, errors: list[Any] | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "errors": errors or []}, status_code=status,
                        headers=headers)


def authenticate(headers: Headers, key: str) -> str | None:
    presented = bearer(headers)
    return presented if presented and presented == key else None


def unauthorized() -> Response:
    return fatal(401, "Invalid API Key")


def throttled(decision: Decision) -> Response:
    return fatal(429, "Rate Limited", headers=throttled_headers(NAME, decision))


def server_error(status: int) -> Response:
    return fatal(status, "Internal Server Error" if status == 500 else "Service Unavailable")


def count_records(method: str, path: str, body: Any) -> int | None:
    total = 0
    for key in ("attributes", "events", "purchases", "external_ids", "braze_ids",
                "user_aliases", "emails", "subscription_groups"):
        if isinstance(body.get(key), list):
            total += len(body[key])
    return total or None


# -- users ------------------------------------------------------------------------
def alias_key(alias: Any) -> str | None:
    if isinstance(alias, dict) and alias.get("alias_name") and alias.get("alias_label"):
        return f"{alias['alias_label']}:{alias['alias_name']}"
    return None


def find_user(sb: Sandbox, obj: dict[str, Any]) -> Contact | None:
    if obj.get("external_id"):
        return sb.store.find_contact(NAME, external_id=str(obj["external_id"]))
    if obj.get("braze_id"):
        return sb.store.get_contact(NAME, str(obj["braze_id"]))
    if obj.get("user_alias"):
        key = alias_key(obj["user_alias"])
        for contact in sb.store.contacts(NAME):
            if contact.attributes.get("_alias") == key:
                return contact
        return None
    if obj.get("email"):  # email wins over phone
        return sb.store.find_contact(NAME, email=norm_email(obj["email"]))
    if obj.get("phone"):
        return sb.store.find_contact(NAME, phone=str(obj["phone"]))
    return None


def has_identifier(obj: Any) -> bool:
    return isinstance(obj, dict) and any(
        alias_key(obj[k]) if k == "user_alias" else obj.get(k)
        for k in IDENTIFIER_KEYS if k in obj)


def user_for(sb: Sandbox, obj: dict[str, Any], create: bool) -> Contact | None:
    contact = find_user(sb, obj)
    if contact is not None or not create:
        return contact
    now = sb.now()
    contact = Contact(provider=NAME, id=uuid.uuid4().hex[:24], created_at=now, updated_at=now,
                      consent={"email_subscribe": "subscribed", "subscription_groups": {}})
    if obj.get("external_id"):
        contact.external_id = str(obj["external_id"])
    if obj.get("user_alias"):
        contact.attributes["_alias"] = alias_key(obj["user_alias"])
    if obj.get("email"):
        contact.email = norm_email(obj["email"])
    if obj.get("phone"):
        contact.phone = str(obj["phone"])
    apply_pending_email_state(sb, contact)
    return contact


def apply_pending_email_state(sb: Sandbox, contact: Contact) -> None:
    """``/email/status`` for an email not yet on a profile applies when it appears."""
    if not contact.email:
        return
    for row in sb.store.suppressions(NAME, "email_state"):
        if row["email"] == contact.email:
            contact.consent["email_subscribe"] = row["reason"]


def set_email_subscribe(sb: Sandbox, contact: Contact, state: str) -> None:
    contact.consent["email_subscribe"] = state
    contact.consent["email_subscribe_at"] = sb.now()


def apply_attributes(sb: Sandbox, contact: Contact, obj: dict[str, Any]) -> None:
    if obj.get("email"):
        contact.email = norm_email(obj["email"])
        apply_pending_email_state(sb, contact)
    if obj.get("phone"):
        contact.phone = str(obj["phone"])
    if obj.get("email_subscribe"):
        set_email_subscribe(sb, contact, obj["email_subscribe"])
    for group in obj.get("subscription_groups") or []:
        contact.consent.setdefault("subscription_groups", {})[
            str(group.get("subscription_group_id"))] = group.get("subscription_state")
    for key, value in obj.items():
        if key in NOT_ATTRIBUTES:
            continue
        if value is None:
            contact.attributes.pop(key, None)
        elif isinstance(value, dict) and ("add" in value or "remove" in value):
            current = contact.attributes.get(key)
            items = list(current) if isinstance(current, list) else []
            for item in value.get("add") or []:
                if item not in items:
                    items.append(item)
            items = [i for i in items if i not in (value.get("remove") or [])]
            contact.attributes[key] = items
        elif isinstance(value, dict) and "inc" in value:
            contact.attributes[key] = (contact.attributes.get(key) or 0) + value["inc"]
        else:
            contact.attributes[key] = value
    contact.updated_at = sb.now()
    sb.store.save_contact(contact)


def attribute_problem(obj: dict[str, Any]) -> str | None:
    if obj.get("email") is not None and not valid_email(obj["email"]):
        return "Invalid email address"
    if obj.get("email_subscribe") is not None and obj["email_subscribe"] not in SUBSCRIBE_STATES:
        return "Invalid email_subscribe value; expected opted_in, subscribed or unsubscribed"
    for group in obj.get("subscription_groups") or []:
        if not isinstance(group, dict) or group.get("subscription_state") not in (
                "subscribed", "unsubscribed"):
            return "Invalid subscription_groups entry"
    return None


def export_view(sb: Sandbox, contact: Contact) -> dict[str, Any]:
    custom = {k: v for k, v in contact.attributes.items()
              if not k.startswith("_") and k not in STANDARD}
    view: dict[str, Any] = {
        "braze_id": contact.id, "external_id": contact.external_id, "email": contact.email,
        "phone": contact.phone, "email_subscribe": contact.consent.get("email_subscribe"),
        "email_unsubscribed_at": iso(contact.consent.get("email_subscribe_at"))
        if contact.consent.get("email_subscribe") == "unsubscribed" else None,
        "subscription_groups": [
            {"id": gid, "status": "Subscribed" if state == "subscribed" else "Unsubscribed"}
            for gid, state in contact.consent.get("subscription_groups", {}).items()],
        "custom_attributes": custom,
        "created_at": iso(contact.created_at),
    }
    view.update({k: contact.attributes[k] for k in STANDARD if k in contact.attributes})
    return view


STANDARD = ("first_name", "last_name", "country", "city", "home_city", "language", "gender",
            "dob", "time_zone")


# -- the person's action in Braze -------------------------------------------------------
def act(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
    now = sb.now()
    users = [c for c in sb.store.contacts(NAME) if c.email == email]
    if action in ("unsubscribe", "spam"):
        for contact in users:
            set_email_subscribe(sb, contact, "unsubscribed")
            sb.store.save_contact(contact)
        if not users:
            sb.store.add_suppression(NAME, email, "email_state", now, reason="unsubscribed")
    if action == "bounce":
        sb.store.add_suppression(NAME, email, "bounce", now)
    user = users[0] if users else None
    event_type = f"users.messages.email.{WEBHOOK_TYPES[action]}"
    sb.store.add_event(NAME, user.id if user else None, event_type, {"email": email}, now)
    return Webhook({"events": [{
        "id": uuid.uuid4().hex, "event_type": event_type, "time": int(now),
        "user": {"user_id": user.id if user else None,
                 "external_user_id": user.external_id if user else None,
                 "email_address": email},
        "properties": {"list": list_id} if list_id else {}}]})


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    contacts = sb.store.contacts(NAME)
    audiences: dict[str, list[Contact]] = {}
    groups: dict[str, list[Contact]] = {}
    for contact in contacts:
        values = contact.attributes.get(AUDIENCE_ATTRIBUTE)
        for value in values if isinstance(values, list) else []:
            audiences.setdefault(str(value), []).append(contact)
        for gid, state in contact.consent.get("subscription_groups", {}).items():
            if state == "subscribed":
                groups.setdefault(gid, []).append(contact)
    lists = [{"id": name, "name": name, "kind": f"attribute {AUDIENCE_ATTRIBUTE}",
              "auto_created": False, "member_count": len(members),
              "members": [member_view(c) for c in members[:limit]]}
             for name, members in sorted(audiences.items())]
    lists += [{"id": gid, "name": gid, "kind": "subscription group", "auto_created": False,
               "member_count": len(members), "members": [member_view(c) for c in members[:limit]]}
              for gid, members in sorted(groups.items())]
    suppressions = [{"email": c.email, "kind": "unsubscribed", "list_id": "",
                     "created_at": c.consent.get("email_subscribe_at")}
                    for c in contacts if c.consent.get("email_subscribe") == "unsubscribed"]
    suppressions += [{"email": s["email"], "kind": s["kind"], "list_id": "",
                      "created_at": s["created_at"]} for s in sb.store.suppressions(NAME)]
    return {"lists": lists, "contacts": len(contacts), "suppressions": suppressions,
            "events": sb.store.count_events(NAME)}


def member_view(contact: Contact) -> dict[str, Any]:
    attributes = {k: (", ".join(map(str, v)) if isinstance(v, list) else v)
                  for k, v in contact.attributes.items()
                  if not k.startswith("_") and k != AUDIENCE_ATTRIBUTE}
    if contact.external_id:
        attributes = {"external_id": contact.external_id, **attributes}
    state = contact.consent.get("email_subscribe")
    return {"id": contact.id, "email": contact.email, "attributes": attributes,
            "consent": state, "subscribed": state in ("subscribed", "opted_in")}


def day_bounds(request: Request) -> tuple[float, float]:
    def day(name: str, default: float) -> float:
        raw = request.query_params.get(name)
        if not raw:
            return default
        parsed = parse_time(raw if "T" in raw else raw + "T00:00:00+00:00")
        if parsed is None:
            raise Reply(fatal(400, f"{name} must be a date like 2026-01-31"))
        return parsed
    start = day("start_date", 0.0)
    end = day("end_date", 1e12)
    if request.query_params.get("end_date"):
        end += 86400  # the end date is inclusive
    return start, end


def paged(request: Request, rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: r[key] or "", reverse=request.query_params.get(
        "sort_direction", "desc") == "desc")
    try:
        limit = min(500, max(1, int(request.query_params.get("limit", 100))))
        offset = max(0, int(request.query_params.get("offset", 0)))
    except ValueError as exc:
        raise Reply(fatal(400, "limit and offset must be integers")) from exc
    return rows[offset:offset + limit]


# -- the router ----------------------------------------------------------------------------
def build(sb: Sandbox) -> ProviderSpec:
    router = APIRouter()

    body_of = body_reader(lambda text: Reply(fatal(400, f"Invalid JSON: {text}")))

    @router.post("/users/track")
    async def track(request: Request) -> JSONResponse:
        body = await body_of(request)
        arrays = {k: body.get(k) or [] for k in ("attributes", "events", "purchases")}
        for key, items in arrays.items():
            if not isinstance(items, list):
                return fatal(400, f"'{key}' must be an array")
            if len(items) > MAX_PER_ARRAY:
                return fatal(400, "Max Input Length Exceeded",
                             [f"{key}: {len(items)} objects, at most {MAX_PER_ARRAY}"])
        errors: list[dict[str, Any]] = []
        counts = {"attributes": 0, "events": 0, "purchases": 0}
        with sb.store.tx():  # one commit for the whole batch
            for index, obj in enumerate(arrays["attributes"]):
                if not has_identifier(obj):
                    errors.append({"type": IDENTIFIER_ERROR, "input_array": "attributes",
                                   "index": index})
                    continue
                problem = attribute_problem(obj)
                if problem is not None:
                    errors.append({"type": problem, "input_array": "attributes", "index": index})
                    continue
                create = not (obj.get("user_alias") and obj.get("_update_existing_only", True))
                if obj.get("_update_existing_only") is True:
                    create = False
                contact = user_for(sb, obj, create)
                if contact is not None:
                    apply_attributes(sb, contact, obj)
                counts["attributes"] += 1
            for array in ("events", "purchases"):
                for index, obj in enumerate(arrays[array]):
                    if not has_identifier(obj):
                        errors.append({"type": IDENTIFIER_ERROR, "input_array": array,
                                       "index": index})
                        continue
                    needed = ("name", "time") if array == "events" else (
                        "product_id", "currency", "price", "time")
                    absent = [k for k in needed if obj.get(k) in (None, "")]
                    if absent or parse_time(obj.get("time")) is None:
                        errors.append({"type": f"'{(absent or ['time'])[0]}' is required and must "
                                       "be valid", "input_array": array, "index": index})
                        continue
                    contact = user_for(sb, obj, create=True)
                    assert contact is not None
                    sb.store.save_contact(contact)
                    name = obj["name"] if array == "events" else f"purchase:{obj['product_id']}"
                    sb.store.add_event(NAME, contact.id, name, obj, sb.now())  # never deduplicated
                    counts[array] += 1
        answer: dict[str, Any] = {"message": "success",
                                  "attributes_processed": counts["attributes"],
                                  "events_processed": counts["events"],
                                  "purchases_processed": counts["purchases"]}
        if errors:
            answer["errors"] = errors
        return JSONResponse(answer, status_code=201)

    @router.post("/users/delete")
    async def delete(request: Request) -> JSONResponse:
        body = await body_of(request)
        kinds = [k for k in ("external_ids", "braze_ids", "user_aliases", "emails")
                 if body.get(k)]
        if len(kinds) != 1:
            return fatal(400, "Exactly one of external_ids, braze_ids, user_aliases or "
                         "emails is required")
        items = body[kinds[0]]
        if len(items) > MAX_IDS:
            return fatal(400, f"At most {MAX_IDS} identifiers per request; got {len(items)}")
        deleted = 0
        for item in items:
            key = {"external_ids": "external_id", "braze_ids": "braze_id",
                   "user_aliases": "user_alias", "emails": "email"}[kinds[0]]
            contact = find_user(sb, {key: item})
            if contact is not None and sb.store.delete_contact(NAME, contact.id):
                deleted += 1
        return JSONResponse({"message": "success", "deleted": deleted}, status_code=201)

    @router.post("/v2/subscription/status/set")
    async def subscription_status(request: Request) -> JSONResponse:
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
    async def email_status(request: Request) -> JSONResponse:
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

    @router.get("/email/unsubscribes")
    async def unsubscribes(request: Request) -> JSONResponse:
        start, end = day_bounds(request)
        rows = [{"email": c.email, "unsubscribed_at": iso(c.consent.get("email_subscribe_at"))}
                for c in sb.store.contacts(NAME)
                if c.email and c.consent.get("email_subscribe") == "unsubscribed"
                and start <= (c.consent.get("email_subscribe_at") or 0) < end]
        rows += [{"email": s["email"], "unsubscribed_at": iso(s["created_at"])}
                 for s in sb.store.suppressions(NAME, "email_state")
                 if s["reason"] == "unsubscribed" and start <= s["created_at"] < end]
        return JSONResponse({"message": "success",
                             "emails": paged(request, rows, "unsubscribed_at")})

    @router.get("/email/hard_bounces")
    async def hard_bounces(request: Request) -> JSONResponse:
        start, end = day_bounds(request)
        rows = [{"email": s["email"], "hard_bounced_at": iso(s["created_at"])}
                for s in sb.store.suppressions(NAME, "bounce") if start <= s["created_at"] < end]
        return JSONResponse({"message": "success",
                             "emails": paged(request, rows, "hard_bounced_at")})

    @router.post("/users/export/ids")
    async def export(request: Request) -> JSONResponse:
        body = await body_of(request)
        users: list[Contact] = []
        invalid: list[str] = []
        for ext in body.get("external_ids") or []:
            contact = find_user(sb, {"external_id": ext})
            (users.append(contact) if contact else invalid.append(str(ext)))
        for bid in body.get("braze_ids") or []:
            contact = sb.store.get_contact(NAME, str(bid))
            (users.append(contact) if contact else invalid.append(str(bid)))
        if body.get("email_address"):
            email = norm_email(body["email_address"])
            users += [c for c in sb.store.contacts(NAME) if c.email == email]
        fields = body.get("fields_to_export")
        views = [export_view(sb, c) for c in users]
        if fields:
            views = [{k: v for k, v in view.items() if k in fields} for view in views]
        return JSONResponse({"message": "success", "users": views,
                             "invalid_user_ids": invalid})

    return ProviderSpec(
        name=NAME, router=router, authenticate=authenticate, unauthorized=unauthorized,
        throttled=throttled, server_error=server_error, count_records=count_records,
        act=act, summarize=summarize, bad_request=lambda message: fatal(400, message))
