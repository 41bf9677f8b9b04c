"""SendGrid suppressions, independent of contacts: global unsubscribes, bounces,
spam reports (reads) and global or group suppressions (writes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.common import valid_email
from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.sendgrid.wire import NAME, bad, body_of

router = APIRouter()


def suppression_rows(sb: Sandbox, request: Request, kind: str) -> list[dict[str, Any]]:
    params = request.query_params
    start = float(params.get("start_time", 0) or 0)
    end = float(params.get("end_time", 1e12) or 1e12)
    rows = [s for s in sb.store.suppressions(NAME, kind) if start <= s["created_at"] <= end]
    offset = int(params.get("offset", 0) or 0)
    limit = int(params.get("limit", 500) or 500)
    return rows[offset:offset + limit]


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
async def global_unsubscribes(request: Request, sb: SandboxDep) -> JSONResponse:
    return JSONResponse(dated(suppression_rows(sb, request, "global")))


@router.get("/v3/suppression/unsubscribes")
async def unsubscribes(request: Request, sb: SandboxDep) -> JSONResponse:
    return JSONResponse(dated(suppression_rows(sb, request, "global")))


@router.get("/v3/suppression/bounces")
async def bounces(request: Request, sb: SandboxDep) -> JSONResponse:
    rows = suppression_rows(sb, request, "bounce")
    return JSONResponse([{"email": r["email"], "created": int(r["created_at"]),
                          "reason": r["reason"], "status": "5.1.1"} for r in rows])


@router.get("/v3/suppression/spam_reports")
async def spam_reports(request: Request, sb: SandboxDep) -> JSONResponse:
    rows = suppression_rows(sb, request, "spam")
    return JSONResponse([{"email": r["email"], "created": int(r["created_at"]),
                          "ip": "127.0.0.1"} for r in rows])


async def add_suppressions(sb: Sandbox, request: Request, kind: str,
                           list_id: str) -> JSONResponse:
    body = await body_of(request)
    emails = [e.lower() for e in body.get("recipient_emails") or []]
    for email in emails:
        if not valid_email(email):
            raise bad(f"{email!r} is not a valid email address", "recipient_emails")
    for email in emails:
        sb.store.add_suppression(NAME, email, kind, sb.now(), list_id=list_id)
    return JSONResponse({"recipient_emails": emails}, status_code=201)


@router.post("/v3/asm/suppressions/global")
async def suppress_global(request: Request, sb: SandboxDep) -> JSONResponse:
    return await add_suppressions(sb, request, "global", "")


@router.post("/v3/asm/groups/{group_id}/suppressions")
async def suppress_group(request: Request, group_id: str, sb: SandboxDep) -> JSONResponse:
    return await add_suppressions(sb, request, "group", group_id)
