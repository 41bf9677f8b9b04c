"""Klaviyo profile bulk import jobs: submit, poll, and once complete, the import
errors and the profiles imported. The profiles are written when the job completes."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.common import iso
from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.klaviyo.model import (
    ensure_list,
    profile_identifiers,
    profile_problem,
    upsert_profile,
)
from activations.sandbox.klaviyo.wire import (
    MEDIA,
    NAME,
    base_url,
    body_of,
    collection,
    invalid,
    not_found,
)

MAX_IMPORT = 10_000
MAX_PROFILE_BYTES = 100 * 1024

router = APIRouter()


def job_resource(request: Request, job: dict[str, Any]) -> dict[str, Any]:
    result = job["result"]
    base = f"{base_url(request)}/api/profile-bulk-import-jobs/{job['id']}"
    return {
        "type": "profile-bulk-import-job",
        "id": job["id"],
        "attributes": {
            "status": job["status"],
            "created_at": iso(job["created_at"]),
            "total_count": job["payload"]["total"],
            "completed_count": result.get("completed", 0),
            "failed_count": result.get("failed", 0),
            "completed_at": iso(job["finished_at"]),
            "started_at": iso(job["started_at"]),
            "expires_at": iso(job["created_at"] + 7 * 86400),
        },
        "relationships": {
            "lists": {
                "data": [{"type": "list", "id": i} for i in job["payload"]["lists"]],
                "links": {"self": f"{base}/relationships/lists/", "related": f"{base}/lists/"},
            },
            "profiles": {
                "links": {"self": f"{base}/relationships/profiles/", "related": f"{base}/profiles/"}
            },
            "import-errors": {
                "links": {
                    "self": f"{base}/relationships/import-errors/",
                    "related": f"{base}/import-errors/",
                }
            },
        },
        "links": {"self": f"{base}/"},
    }


def complete_import(sb: Sandbox, job: dict[str, Any]) -> None:
    payload = job["payload"]
    ids: list[str] = []
    for attrs in payload.pop("profiles"):
        contact, _ = upsert_profile(sb, attrs, profile_id_=attrs.get("id"))
        sb.count_write(NAME, contact.external_id or contact.email, attrs)
        ids.append(contact.id)
    for list_id in payload["lists"]:
        ensure_list(sb, list_id)
        sb.store.add_members(NAME, list_id, ids, sb.now())
    job["result"] = {
        "profile_ids": list(dict.fromkeys(ids)),
        "completed": len(ids),
        "failed": len(payload["errors"]),
    }
    job["status"] = "complete"


@router.post("/api/profile-bulk-import-jobs")
async def bulk_import(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    data = body["data"]
    profiles = data["attributes"]["profiles"]["data"]
    if len(profiles) > MAX_IMPORT:
        raise invalid(
            f"A bulk import job takes at most {MAX_IMPORT} profiles; got {len(profiles)}.",
            pointer="/data/attributes/profiles/data",
        )
    lists = [
        item["id"]
        for item in ((data.get("relationships") or {}).get("lists") or {}).get("data") or []
    ]
    good: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, profile in enumerate(profiles):
        attrs = dict(profile.get("attributes") or {})
        if profile.get("id"):
            attrs.setdefault("id", profile["id"])
        problem = profile_problem(attrs)
        as_sent = json.dumps(profile, separators=(",", ":"), ensure_ascii=False).encode()
        if problem is None and len(as_sent) > MAX_PROFILE_BYTES:
            problem = ("", "The profile is larger than 100 KB.")
        if problem is not None:
            field, detail = problem
            errors.append(
                {
                    "type": "import-error",
                    "id": uuid.uuid4().hex,
                    "attributes": {
                        "code": "invalid",
                        "title": "Invalid input.",
                        "detail": detail,
                        "source": {
                            "pointer": f"/data/attributes/profiles/data/{index}/attributes"
                            + (f"/{field}" if field else "")
                        },
                        "original_payload": attrs,
                    },
                }
            )
        else:
            good.append(attrs)
    job = sb.jobs.create(
        NAME,
        "profile-bulk-import",
        ["queued", "processing", "complete"],
        {"profiles": good, "errors": errors, "lists": lists, "total": len(profiles)},
    )
    return JSONResponse({"data": job_resource(request, job)}, status_code=202, media_type=MEDIA)


@router.get("/api/profile-bulk-import-jobs/{job_id}")
async def import_job(request: Request, job_id: str, sb: SandboxDep) -> JSONResponse:
    job = sb.jobs.poll(NAME, job_id)
    if job is None:
        raise not_found(f"A profile bulk import job with id {job_id} does not exist.")
    return JSONResponse({"data": job_resource(request, job)}, media_type=MEDIA)


def finished_job(sb: Sandbox, job_id: str) -> dict[str, Any]:
    job = sb.jobs.get(NAME, job_id)
    if job is None:
        raise not_found(f"A profile bulk import job with id {job_id} does not exist.")
    return job


@router.get("/api/profile-bulk-import-jobs/{job_id}/import-errors")
async def import_errors(request: Request, job_id: str, sb: SandboxDep) -> JSONResponse:
    job = finished_job(sb, job_id)
    errors = job["payload"]["errors"] if job["done"] else []
    return collection(request, errors, list)


@router.get("/api/profile-bulk-import-jobs/{job_id}/relationships/profiles")
async def import_profile_ids(request: Request, job_id: str, sb: SandboxDep) -> JSONResponse:
    job = finished_job(sb, job_id)
    ids = job["result"].get("profile_ids", []) if job["done"] else []
    return collection(request, ids, profile_identifiers)
