"""The sandbox's shared machinery: one object the routers and the control API use."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Depends, Request
from starlette.datastructures import Headers
from starlette.responses import Response

from activations.sandbox.faults import FaultInjector, Faults
from activations.sandbox.jobs import JobRunner, Pacing, SandboxClock
from activations.sandbox.limits import Decision, PacingWatch, RateLimiter
from activations.sandbox.settings import PROVIDERS, ProviderLimits, SandboxSettings
from activations.sandbox.signing import sign
from activations.sandbox.store import Store

ACTIONS = ("unsubscribe", "bounce", "spam", "open", "click")


@dataclass(frozen=True)
class Webhook:
    """A reporting webhook as the provider would post it."""

    payload: Any
    form: bool = False  # Mailchimp posts form-encoded data


@dataclass(frozen=True)
class ProviderSpec:
    """What the gate and the control API need to know about one provider."""

    name: str
    router: APIRouter
    # the secret presented, if it is the right one; None means "answer 401"
    authenticate: Callable[[Headers, str], str | None]
    unauthorized: Callable[[], Response]
    throttled: Callable[[Decision], Response]
    server_error: Callable[[int], Response]
    count_records: Callable[[str, str, Any], int | None]
    # a person's action in the ESP: change consent, return the reporting webhook
    act: Callable[[Sandbox, str, str, str | None], Webhook | None]
    # lists/segments with members for the state endpoint and the page
    summarize: Callable[[Sandbox, int], dict[str, Any]]
    max_body_bytes: int | None = None
    too_large: Callable[[int], Response] | None = None
    public_prefixes: tuple[str, ...] = ()  # paths that need no key (e.g. signed file URLs)
    # a body the handler cannot read (wrong types, missing keys), in the provider's 400 shape
    bad_request: Callable[[str], Response] | None = None

    @classmethod
    def assemble(cls, wire: ModuleType, control: ModuleType, router: APIRouter,
                 **extra: Any) -> ProviderSpec:
        """A provider package's spec: ``wire`` gives its NAME and the gate's answers,
        ``control`` the person's actions and the state summary; ``extra`` the rest."""
        return cls(name=wire.NAME, router=router, authenticate=wire.authenticate,
                   unauthorized=wire.unauthorized, throttled=wire.throttled,
                   server_error=wire.server_error, count_records=wire.count_records,
                   act=control.act, summarize=control.summarize, **extra)


def group_router(groups: Iterable[ModuleType], **options: Any) -> APIRouter:
    """A provider's router: the ``router`` of each of its route group modules, included
    in order (``options``, such as ``prefix`` or ``dependencies``, go to the APIRouter)."""
    router = APIRouter(**options)
    for group in groups:
        router.include_router(group.router)
    return router


@dataclass
class Sandbox:
    settings: SandboxSettings
    store: Store
    clock: SandboxClock
    jobs: JobRunner
    limiter: RateLimiter = field(default_factory=RateLimiter)
    faults: FaultInjector = field(default_factory=FaultInjector)
    pacing_watch: PacingWatch = field(default_factory=PacingWatch)
    providers: dict[str, ProviderSpec] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: SandboxSettings) -> Sandbox:
        store = Store(settings.state_dir)
        clock = SandboxClock(store)
        holder: dict[str, Sandbox] = {}
        jobs = JobRunner(store, clock, lambda provider: holder["sb"].pacing(provider),
                         lambda provider: holder["sb"].faults.job_fails(provider))
        sandbox = cls(settings=settings, store=store, clock=clock, jobs=jobs)
        holder["sb"] = sandbox
        for provider, raw in (store.get_kv("faults") or {}).items():
            sandbox.faults.configure(provider, Faults.model_validate(raw))
        return sandbox

    # -- configuration that tests change at run time (persisted) -----------------
    def config(self) -> dict[str, Any]:
        saved = self.store.get_kv("config") or {}
        return {
            "webhook_url": saved.get("webhook_url", self.settings.webhook_url),
            "job_advance": saved.get("job_advance", self.settings.job_advance),
            "job_step_seconds": saved.get("job_step_seconds", self.settings.job_step_seconds),
        }

    def set_config(self, changes: dict[str, Any]) -> dict[str, Any]:
        saved = self.store.get_kv("config") or {}
        saved.update(changes)
        self.store.set_kv("config", saved)
        return self.config()

    def pacing(self, provider: str) -> Pacing:
        cfg = self.config()
        return Pacing(mode=cfg["job_advance"], step_seconds=float(cfg["job_step_seconds"]),
                      slow=self.faults.get(provider).slow_jobs)

    def limits(self, provider: str) -> ProviderLimits:
        saved = (self.store.get_kv("limits") or {}).get(provider)
        if saved is not None:
            return ProviderLimits.model_validate(saved)
        return self.settings.limits.get(provider, ProviderLimits())

    def set_limits(self, provider: str, limits: ProviderLimits) -> None:
        saved = self.store.get_kv("limits") or {}
        saved[provider] = limits.model_dump()
        self.store.set_kv("limits", saved)
        self.limiter.reset()

    def set_faults(self, provider: str, faults: Faults) -> None:
        targets = PROVIDERS if provider == "all" else (provider,)
        saved = self.store.get_kv("faults") or {}
        for name in targets:
            self.faults.configure(name, faults)
            saved[name] = faults.model_dump()
        self.store.set_kv("faults", saved)

    def reset(self) -> None:
        self.store.reset()
        self.faults.clear()
        self.limiter.reset()
        self.pacing_watch.reset()

    def count_write(self, provider: str, record: Any, content: Any) -> None:
        """One write the provider accepted and applied: ``record`` is whom it was for
        (external id, else email), ``content`` what was written (as sent). Tests read
        the counts per record and content to find a confirmed record sent again."""
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        self.store.log_write(provider, str(record), digest, self.now())

    def now(self) -> float:
        return self.clock.now()

    # -- a person's action in the ESP ---------------------------------------------
    async def person_action(self, provider: str, action: str, email: str,
                            list_id: str | None) -> dict[str, Any]:
        webhook = self.providers[provider].act(self, action, email, list_id)
        delivery = await self.post_webhook(provider, webhook) if webhook else None
        return {"provider": provider, "action": action, "email": email, "list": list_id,
                "webhook": delivery}

    async def post_webhook(self, provider: str, webhook: Webhook) -> dict[str, Any] | None:
        url = self.config()["webhook_url"]
        if not url:
            return None
        url = url.replace("{provider}", provider)
        if webhook.form:
            body = urlencode(webhook.payload).encode()
            kind = "application/x-www-form-urlencoded"
        else:
            body, kind = json.dumps(webhook.payload).encode(), "application/json"
        # signed as the provider signs it (the delivery time is the wall clock's)
        target, headers = sign(provider, url, body, self.settings.webhook_secrets.get(provider),
                               time.time(), uuid.uuid4().hex)
        status: int | None
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                answer = await client.post(target, content=body,
                                           headers={"content-type": kind, **headers})
            status = answer.status_code
        except httpx.HTTPError:
            status = None
        self.store.log_webhook(provider, url, status, webhook.payload, self.now())
        return {"url": url, "status": status}


def list_summaries(sb: Sandbox, provider: str, limit: int,
                   view: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of ``provider``'s lists (segments, tags, audiences) with its member count and
    its first ``limit`` members as ``view`` shows them: the state summary's ``lists``."""
    lists = []
    for row in sb.store.lists(provider):
        ids = sb.store.member_ids(provider, row.id)
        shown = sb.store.contacts(provider, ids=ids[:limit])
        lists.append({"id": row.id, "name": row.name, "kind": row.kind,
                      "auto_created": row.auto_created, "member_count": len(ids),
                      "members": [view(c) for c in shown]})
    return lists


async def current_sandbox(request: Request) -> Sandbox:
    """The app's Sandbox, for the provider routes (``sb: SandboxDep``)."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


SandboxDep = Annotated[Sandbox, Depends(current_sandbox)]
