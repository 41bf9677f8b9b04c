"""The inbound hook receiver: one small FastAPI app that takes each ESP's
reporting webhooks at ``POST /hooks/{provider}``, reads them with that
provider's hook parser (``activations.providers.<name>.hooks``, named in the
provider registry) and lands them in ``raw.consents`` and ``raw.email_events``
(see ``activations.consent.landing``).

The warehouse file is opened per delivery and closed right after, so the
receiver never holds DuckDB's single-writer lock while idle; when another
process holds it (a dbt build), the answer is ``503`` with ``Retry-After`` and
the ESP delivers again later (every ESP retries failed webhooks). Landing is
idempotent, so a retried delivery adds nothing twice.

With a token configured, a delivery must carry it (``?token=`` in the URL the
ESP is given, or an ``X-Webhook-Token`` header); otherwise 401.
"""

from __future__ import annotations

import hmac
import threading
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from activations.consent.landing import land
from activations.errors import UserError
from activations.providers.registry import EMAIL_PROVIDERS, HookParser, hook_parser
from activations.warehouse.connections import connect


def create_app(warehouse: Path | str, *, token: str | None = None) -> FastAPI:
    """``warehouse``: a DuckDB file path, or a PostgreSQL URL / conninfo."""
    app = FastAPI(title="activations webhook receiver", docs_url=None, redoc_url=None)
    lock = threading.Lock()
    target = str(warehouse)
    parsers: dict[str, HookParser] = {
        name: parser for name in EMAIL_PROVIDERS if (parser := hook_parser(name)) is not None
    }

    def authorised(request: Request) -> bool:
        if not token:
            return True
        given = request.query_params.get("token") or request.headers.get("x-webhook-token") or ""
        return hmac.compare_digest(given, token)

    @app.get("/health")
    def health() -> dict[str, object]:
        return {"ok": True, "providers": sorted(parsers)}

    @app.get("/hooks/{provider}")
    def check(provider: str) -> JSONResponse:
        # Mailchimp (and others) check that the URL answers before they use it
        if provider not in parsers:
            return JSONResponse({"error": f"unknown provider {provider!r}"}, status_code=404)
        return JSONResponse({"ok": True})

    @app.post("/hooks/{provider}")
    async def receive(provider: str, request: Request) -> JSONResponse:
        if provider not in parsers:
            known = ", ".join(sorted(parsers))
            return JSONResponse(
                {"error": f"unknown provider {provider!r}; use one of {known}"}, 404
            )
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong webhook token"}, status_code=401)
        body = await request.body()
        try:
            signals = parsers[provider](body, request.headers.get("content-type", ""))
        except (ValueError, AttributeError, TypeError) as exc:
            return JSONResponse(
                {"error": f"{provider} webhook not understood: {exc}"}, status_code=400
            )
        if not signals:
            return JSONResponse({"received": 0, "consents": 0, "email_events": 0})
        try:
            with lock:
                conn = connect(target)
                try:
                    landed = land(conn, signals)
                finally:
                    conn.close()
        except UserError as exc:
            return JSONResponse(
                {"error": str(exc).splitlines()[0]}, status_code=503, headers={"Retry-After": "5"}
            )
        return JSONResponse(
            {
                "received": landed.seen,
                "consents": landed.consents,
                "email_events": landed.email_events,
            }
        )

    return app
