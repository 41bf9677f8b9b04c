"""Mailchimp's asynchronous batch operations: ``POST /batches``, polled with
``GET /batches/{id}`` through ``pending → preprocessing → started → finalizing
→ finished``, results in a gzipped tar of JSON files holding
``[{status_code, operation_id, response}]`` (``response`` is a JSON string).

The operations run when the batch reaches ``finished`` (on the poll that gets
there), each through the sandbox's own Mailchimp endpoints, so they follow the
same rules (compliance state, merge fields, limits per call) as direct calls.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from activations.sandbox.common import Reply, iso
from activations.sandbox.core import SandboxDep
from activations.sandbox.mailchimp.wire import problem

STATES = ["pending", "preprocessing", "started", "finalizing", "finished"]
MAX_PENDING = 500
KIND = "batch"
RESULTS_PATH = "/mailchimp/3.0/batch-results/"

router = APIRouter()


def batch_view(job: dict[str, Any]) -> dict[str, Any]:
    result = job["result"]
    finished = job["done"] and result.get("executed")
    return {
        "id": job["id"], "status": job["status"] if finished or not job["done"] else "finalizing",
        "total_operations": len(job["payload"]["operations"]),
        "finished_operations": result.get("finished", 0) if finished else 0,
        "errored_operations": result.get("errored", 0) if finished else 0,
        "submitted_at": iso(job["created_at"]),
        "completed_at": iso(job["finished_at"]) if finished else "",
        "response_body_url": job["payload"]["results_url"] if finished else "",
    }


def results_tarball(job: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        data = json.dumps(job["result"]["responses"]).encode()
        info = tarfile.TarInfo(f"{job['id']}/0.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def bad(detail: str) -> Reply:
    return Reply(problem(400, "Invalid Resource", detail))


@router.post("/batches")
async def submit(request: Request, sb: SandboxDep) -> JSONResponse:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise bad(f"The request body could not be parsed: {exc}") from exc
    operations = body.get("operations") if isinstance(body, dict) else None
    if not isinstance(operations, list) or not operations:
        raise bad("operations must be a non-empty array")
    for index, op in enumerate(operations):
        if not isinstance(op, dict) or op.get("method") not in (
                "GET", "POST", "PUT", "PATCH", "DELETE") or not str(
                op.get("path", "")).startswith("/"):
            raise bad(f"operations[{index}] needs a method and a path starting with /")
        if "body" in op and not isinstance(op["body"], str):
            raise bad(f"operations[{index}].body must be a JSON string")
    pending = [j for j in sb.store.jobs("mailchimp") if j["kind"] == KIND and not j["done"]]
    if len(pending) >= MAX_PENDING:
        raise Reply(problem(429, "Too Many Requests",
                            f"You have more than {MAX_PENDING} pending batches."))
    base = str(request.base_url).rstrip("/")
    job = sb.jobs.create("mailchimp", KIND, STATES, {"operations": operations})
    job["payload"]["results_url"] = f"{base}{RESULTS_PATH}{job['id']}.tar.gz"
    sb.store.save_job("mailchimp", job["id"], KIND, job, job["created_at"])
    return JSONResponse(batch_view(job))


@router.get("/batches/{batch_id}")
async def status(request: Request, batch_id: str, sb: SandboxDep) -> JSONResponse:
    job = sb.jobs.poll("mailchimp", batch_id)
    if job is None or job["kind"] != KIND:
        raise Reply(problem(404, "Resource Not Found",
                            f"The requested resource could not be found: batch {batch_id}."))
    if job["done"] and not job["result"].get("executed"):
        await execute(request.app, request.headers.get("authorization", ""), job)
        sb.store.save_job("mailchimp", job["id"], KIND, job, job["created_at"])
    return JSONResponse(batch_view(job))


@router.get("/batch-results/{name}")
async def results(name: str, sb: SandboxDep) -> Response:
    job = sb.jobs.get("mailchimp", name.removesuffix(".tar.gz"))
    if job is None or not job["result"].get("executed"):
        raise Reply(problem(404, "Resource Not Found", "No results for this batch yet."))
    return Response(results_tarball(job), media_type="application/x-gzip")


async def execute(app: FastAPI, authorization: str, job: dict[str, Any]) -> None:
    """Run every operation through the sandbox's own endpoints, past the gate
    (no faults, limits or request log: Mailchimp runs them inside its walls)."""

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    responses: list[dict[str, Any]] = []
    errored = 0
    transport = httpx.ASGITransport(app=inner)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/mailchimp/3.0",
                                 headers={"authorization": authorization}) as client:
        for op in job["payload"]["operations"]:
            answer = await client.request(op["method"], op["path"], params=op.get("params"),
                                          content=op.get("body"),
                                          headers={"content-type": "application/json"})
            errored += answer.status_code >= 400
            responses.append({"status_code": answer.status_code,
                              "operation_id": op.get("operation_id"),
                              "response": answer.text})
    job["result"] = {"executed": True, "responses": responses,
                     "finished": len(responses), "errored": errored}
