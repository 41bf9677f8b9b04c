"""The fault suite: syncs to every destination under every fault it can inject,
and with the sync process killed (SIGKILL, SIGTERM) at random points, each then
rerun to completion and checked.

Each destination runs a chain of scenarios on one warehouse and one
destination, one fault each: a scenario changes the audience (a tenth leave,
some come back later, a tenth join, a fifth get new data, and for an email
ESP two members unsubscribe in the ESP itself while the warehouse still calls
them sendable), then syncs until a run succeeds, under its fault all along.

The SMS providers (Infobip, Twilio) sync the same audience by phone: the
table gets ``phone_e164`` (a unique E.164 number per person) and the channel
decision ``channel`` (``sms`` for the sendable rows, ``email`` for the others,
whose ``is_sendable`` says yes: an SMS sync must go by the channel, not by the
email decision), and members are read by their id (the person key). Their
refused records are the ones only the provider refuses: for Infobip a number
another person of the account already holds, for Twilio a message over
Segment's 32 KB. SMS consent is decided in the warehouse, so there is no
unsubscribe in the provider and the re-subscribed check does not apply (the
output says ``n/a``). Then:

- **lost**: sendable records (less the rejects, which must be listed in
  ``sync_rejects`` with the provider's reason) that the destination does not
  hold with their current data, plus records it holds that it should not;
- **state**: ``sync_state`` must name exactly the records the destination holds,
  and a fresh plan must find nothing changed or removed;
- **resent**: before every run the state's committed records (their hash known,
  no write-ahead row: ``sync_inflight`` names those a crash left unknown, which
  the contract resends on purpose) and what the destination last accepted for
  each (the sandbox counts accepted writes per record and content; the signed
  webhook's sink logs each record with its hash). A write during the run of a
  committed record with that same content is a confirmed record sent again;
- **re-subscribed**: a member who unsubscribed in the ESP and is no longer
  suppressed there after the sync (email ESPs only: ``n/a`` for SMS);
- **early**: a request that came before the ``Retry-After`` or rate-limit
  reset a 429 announced (the sandbox's and the sink's pacing watch).

A killed run is a forked child process running the engine (the parent's
imports, so no interpreter start-up); SIGTERM goes through the same graceful
stop as ``activations run`` (``activations.sync.interrupt``).

Used by ``tests/activations/faults/test_fault_suite.py`` (small and fast, in
``make test``) and ``benchmarks/bench_faults.py`` (the randomized soak).
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx

from activations.providers.registry import make_provider
from activations.sandbox.env import credentials
from activations.sandbox.server import SandboxServer
from activations.sandbox.settings import default_limits
from activations.sandbox.webhook_sink import Faults as SinkFaults
from activations.sandbox.webhook_sink import SinkServer
from activations.sync import engine
from activations.sync.delivery.retries import RetryPolicy
from activations.sync.interrupt import stop_on_signals
from activations.sync.specs import SyncSpec

ESPS = ("braze", "klaviyo", "mailchimp", "sendgrid", "customerio")
SMS = ("infobip", "twilio")  # the registry's SMS_PROVIDERS: synced by phone_e164
DESTINATIONS = (*ESPS, *SMS, "webhook")
TARGET = {"customerio": "7", "webhook": "/hooks/faults"}  # else "fault_audience"
KEY_ENV = "FAULT_SUITE_KEY"
SINK_SECRET = "whsec-fault-suite-5e1d"
BAD_DOMAIN = "shop.c0m"  # passes the planner's email check; every ESP refuses it
#: the number of a person of the Infobip account outside the sync: a refused SMS
#: record (the BAD_DOMAIN rows) gets it, which only Infobip can refuse (its numbers
#: are unique to one person); no person's own number (``phone_of``) is this one
TAKEN_PHONE = "+4915999999999"
#: Segment refuses a message over 32 KB (the whole batch, so the sync rejects it
#: alone): a refused Twilio record gets a first name this long
OVERSIZE = 33 * 1024
#: a fast retry policy: the suite measures correctness, not patience
POLICY = RetryPolicy(attempts=8, initial=0.01, max_wait=0.05, jitter=0.01, max_retry_after=30)
MAX_RUNS = 12  # runs per phase before a scenario counts as not completing


@dataclass(frozen=True)
class Scenario:
    destination: str
    name: str
    faults: dict[str, Any] = field(default_factory=dict)  # sandbox faults / sink Faults
    limits: dict[str, Any] | None = None  # sandbox limits for the provider
    kill: int | None = None  # signal sent to the sync process at a random point
    rejects: bool = False  # records the destination refuses, per record
    seed: int = 0

    @property
    def label(self) -> str:
        return f"{self.destination}/{self.name}"


def scenarios(destination: str, seed: int = 0) -> list[Scenario]:
    """Every fault ``destination`` can meet, plus SIGKILL and SIGTERM."""
    s = lambda name, **kw: Scenario(destination, name, seed=seed, **kw)  # noqa: E731
    if destination == "webhook":
        return [
            s("latency", faults={"delay": 0.01}),
            s("5xx", faults={"fail_every": 3, "retry_after": 0.05}),
            s("dropped", faults={"drop_every": 3}),
            s("429-storm", faults={"storm": 3, "storm_retry_after": 0.2}),
            s("partial", rejects=True),
            s("sigkill", kill=signal.SIGKILL, faults={"delay": 0.03}),
            s("sigterm", kill=signal.SIGTERM, faults={"delay": 0.03}),
        ]
    out = [
        s("latency", faults={"latency_ms": 15}),
        s("5xx", faults={"error_rate": 0.3, "status": 503, "seed": seed + 1}),
        s("dropped", faults={"drop_rate": 0.2, "seed": seed + 2}),
        # the provider's own 429 (body, headers: Retry-After, X-RateLimit-Reset, none)
        s("429-storm", faults={"rate_limit_storm": 2},
          limits={"windows": [(1000, 1.0)], "concurrency": 2 if destination == "mailchimp"
                  else None}),
        s("partial", rejects=True),
        s("sigkill", kill=signal.SIGKILL, faults={"latency_ms": 30}),
        s("sigterm", kill=signal.SIGTERM, faults={"latency_ms": 30}),
    ]
    if destination in ("klaviyo", "sendgrid"):  # the providers with async import jobs
        out[4:4] = [s("slow-jobs", faults={"slow_jobs": 3}),
                    s("failing-jobs", faults={"failing_jobs": 1})]
    return out


@dataclass
class Result:
    scenario: Scenario
    records: int = 0  # distinct records the scenario synced
    runs: int = 0
    kills: int = 0  # runs actually killed mid-way
    lost: int = 0
    extra: int = 0
    resent: int = 0
    resubscribed: int = 0
    early: int = 0
    rejected: int = 0  # listed in sync_rejects with a reason
    seconds: float = 0.0
    keys: set[str] = field(default_factory=set, repr=False)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.problems or self.lost or self.extra or self.resent
                    or self.resubscribed or self.early)

    @property
    def resubscribe_checked(self) -> bool:
        """False for SMS: consent is the warehouse's, nobody unsubscribes in the provider."""
        return self.scenario.destination not in SMS

    def line(self) -> str:
        resubscribed = self.resubscribed if self.resubscribe_checked else "n/a"
        return (f"{self.scenario.label:<26} records {self.records:>6}  runs {self.runs:>2}  "
                f"kills {self.kills}  lost {self.lost}  resent {self.resent}  "
                f"re-subscribed {resubscribed}  early {self.early}  "
                f"rejects {self.rejected}  {self.seconds:.1f}s" + (f"  PROBLEMS: {self.problems}"
                                               if self.problems else ""))


@dataclass
class Totals:
    scenarios: int = 0
    records: int = 0
    lost: int = 0
    resent: int = 0
    resubscribed: int = 0
    early: int = 0
    kills: int = 0
    runs: int = 0
    failed: list[str] = field(default_factory=list)
    per_destination: dict[str, set[str]] = field(default_factory=dict)
    checks: int = 0  # records checked, summed over scenarios
    results: list[str] = field(default_factory=list)

    def add(self, r: Result) -> None:
        self.results.append(r.line())
        self.scenarios += 1
        self.checks += r.records
        self.lost += r.lost + r.extra
        self.resent += r.resent
        self.resubscribed += r.resubscribed
        self.early += r.early
        self.kills += r.kills
        self.runs += r.runs
        seen = self.per_destination.setdefault(r.scenario.destination, set())
        seen |= r.keys
        self.records = sum(len(k) for k in self.per_destination.values())
        if not r.ok:
            self.failed.append(r.line())

    def line(self) -> str:
        unchecked = [d for d in self.per_destination if d in SMS]
        na = (f" (n/a for {', '.join(unchecked)}: SMS consent is the warehouse's, "
              "no unsubscribe in the provider)") if unchecked else ""
        return (f"fault suite: {self.scenarios} scenarios, {self.records} records "
                f"({self.checks} checked after their scenario), "
                f"lost {self.lost}, resent {self.resent}, re-subscribed {self.resubscribed}{na}, "
                f"early requests {self.early} ({self.runs} runs, {self.kills} killed)")


# -- the audience ---------------------------------------------------------------------
def _key(i: int) -> str:
    return f"f{i:06d}"


def phone_of(key: str) -> str:
    """Person ``key``'s own E.164 number (German mobile range), unique per key."""
    return f"+4915{int(key[1:]):09d}"


@dataclass
class Audience:
    """key -> (email, version, sendable); written to ``demo.fault_audience``."""

    rows: dict[str, tuple[str, int, bool]]

    @classmethod
    def start(cls, n: int) -> Audience:
        rows = {_key(i): (f"{_key(i)}@example.com", 1, True) for i in range(n)}
        for i in range(n, n + max(2, n // 40)):  # never sendable: must never arrive
            rows[_key(i)] = (f"{_key(i)}@example.com", 1, False)
        return cls(rows)

    def step(self, n: int, number: int, *, rejects: bool, churn: float = 0.2) -> Audience:
        """The audience a scenario syncs: a tenth leave (some come back later), a
        fifth (``churn``) get new data, a tenth join; ``rejects`` adds records the destination
        refuses (they stay, refused, in later steps: their keys are clear of the
        next steps' joiners, which once took them over with valid addresses)."""
        rng = random.Random(number)
        rows = {}
        for key, (email, version, sendable) in self.rows.items():
            draw = rng.random()
            if sendable and BAD_DOMAIN not in email and draw < 0.1:
                continue  # left the audience
            rows[key] = (email, version + 1 if draw > 1 - churn else version, sendable)
        base = 10 * n + number * n
        for i in range(base, base + max(2, n // 10)):  # joined
            rows[_key(i)] = (f"{_key(i)}@example.com", 1, True)
        for key, (email, version, sendable) in self.rows.items():  # some of those who left
            if key not in rows and rng.random() < 0.3:
                rows[key] = (email, version, sendable)
        if rejects:  # between this step's joiners and the next step's (base + n...)
            for i in range(base + n // 2, base + n // 2 + max(2, n // 40)):
                rows[_key(i)] = (f"{_key(i)}@{BAD_DOMAIN}", 1, True)
        return Audience(rows)

    def sendable(self) -> dict[str, tuple[str, int]]:
        return {k: (e, v) for k, (e, v, s) in self.rows.items() if s}

    def write(self, path: Path, channel: str = "email",
              refuse: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        """The audience table. For ``channel`` ``sms`` it also has ``phone_e164`` and
        the channel decision (``sms`` for the sendable rows; the others are for
        email, ``is_sendable`` true: an SMS sync must not go by it), and ``refuse``
        turns each refused row (its email at BAD_DOMAIN) into one the provider refuses."""
        rows = [{"person_id": k, "email": e, "first_name": f"N{k[-3:]}", "version": v,
                 "is_sendable": s} for k, (e, v, s) in sorted(self.rows.items())]
        if channel == "sms":
            for row in rows:
                sendable = row["is_sendable"]
                row.update(phone_e164=phone_of(row["person_id"]),
                           channel="sms" if sendable else "email", is_sendable=not sendable)
        if refuse is not None:
            rows = [refuse(r) if BAD_DOMAIN in r["email"] else r for r in rows]
        extra = " phone_e164 varchar, channel varchar," if channel == "sms" else ""
        names = ["person_id", "email", "first_name", "version", "is_sendable"] + (
            ["phone_e164", "channel"] if channel == "sms" else [])
        con = duckdb.connect(str(path))
        try:
            con.execute("create schema if not exists demo")
            con.execute("create or replace table demo.fault_audience (person_id varchar, "
                        f"email varchar, first_name varchar, version integer,{extra} "
                        "is_sendable boolean)")
            con.executemany(
                f"insert into demo.fault_audience ({', '.join(names)}) "
                f"values ({', '.join('?' for _ in names)})",
                [[r[n] for n in names] for r in rows])
        finally:
            con.close()


def key_of(record: str) -> str:
    """A destination's record id (the person key, or an email ``key@domain``) -> key."""
    return record.split("@", 1)[0]


# -- the destination side ---------------------------------------------------------------
class Destination:
    """What the checks read from one destination; one subclass per kind."""

    name: str
    channel = "email"  # what the audience table is built for (``Audience.write``)
    unsubscribes = False  # people unsubscribe in the destination itself (an email ESP)

    def refuse(self, row: dict[str, Any]) -> dict[str, Any]:
        """A refused audience row as this destination refuses it (an email ESP: as it
        is, its email at BAD_DOMAIN)."""
        return row

    def spec_credentials(self) -> dict[str, Any]: ...
    def env(self) -> dict[str, str]: ...
    def arm(self, scenario: Scenario) -> None: ...
    def calm(self) -> None: ...
    def progress(self) -> int: ...
    def writes_since(self, cursor: int) -> tuple[list[tuple[str, str, str]], int]: ...
    def holds(self) -> dict[str, str]: ...  # key -> version (as text) at the destination
    def unsubscribe(self, emails: list[str]) -> None: ...
    def suppressed(self) -> set[str]: ...
    def early(self) -> int: ...


class EspDestination(Destination):
    unsubscribes = True

    def __init__(self, sandbox: SandboxServer, name: str) -> None:
        self.sandbox, self.name = sandbox, name

    def spec_credentials(self) -> dict[str, Any]:
        options: dict[str, Any] = {"poll_interval": 0.01, "job_timeout": 60.0}
        if self.name == "mailchimp":
            options["list"] = "Shop"
        return {"api_key_env": KEY_ENV, "base_url": self.sandbox.url(self.name),
                "options": options, "timeout": 10.0}

    def env(self) -> dict[str, str]:
        return {KEY_ENV: credentials(self.name, self.sandbox.base_url)[1]}

    def reset(self) -> None:
        self.sandbox.reset()

    def arm(self, scenario: Scenario) -> None:
        self.sandbox.set_faults(self.name, **scenario.faults)
        if scenario.limits is not None:
            self.sandbox.set_limits(self.name, **scenario.limits)

    def calm(self) -> None:
        self.sandbox.clear_faults(self.name)
        limits = default_limits()[self.name]
        self.sandbox.set_limits(self.name, [(w.limit, w.seconds) for w in limits.windows],
                                limits.concurrency)

    def progress(self) -> int:
        """Requests the sandbox has answered (read in process: it is polled often)."""
        return self.sandbox.app.sandbox.store.request_seq()

    def writes_since(self, cursor: int) -> tuple[list[tuple[str, str, str]], int]:
        rows = self.sandbox.writes(self.name, since=cursor)
        new = [(key_of(w["record"]), w["digest"], "upsert") for w in rows]
        return new, (rows[-1]["seq"] if rows else cursor)

    def _list(self) -> dict[str, Any] | None:
        target = TARGET.get(self.name, "fault_audience")
        state = self.sandbox.state(self.name, members=1_000_000)["providers"][self.name]
        for item in state.get("lists", []):
            name = str(item.get("name"))
            if target in (name, str(item.get("id"))) or name.endswith(f" › {target}"):
                return item
        return None

    def holds(self) -> dict[str, str]:
        found = self._list() or {}
        out = {}
        for m in found.get("members", []):
            attrs = m.get("attributes") or {}
            version = attrs.get("version", attrs.get("VERSION"))
            out[key_of(str(m["email"]))] = str(int(float(version))) if version is not None \
                else "?"
        return out

    def unsubscribe(self, emails: list[str]) -> None:
        list_id = None
        if self.name == "mailchimp":
            state = self.sandbox.state("mailchimp", members=0)["providers"]["mailchimp"]
            list_id = next(i["id"] for i in state["lists"] if i["name"] == "Shop")
        for email in emails:
            self.sandbox.person(self.name, "unsubscribe", email, list_id)

    def suppressed(self) -> set[str]:
        state = self.sandbox.state(self.name, members=1_000_000)["providers"][self.name]
        out = {str(s["email"]) for s in state.get("suppressions", [])}
        # a member shown as subscribed is not suppressed, whatever a log says
        for item in state.get("lists", []):
            for m in item.get("members", []):
                if m.get("subscribed") is True:
                    out.discard(str(m["email"]))
        return out

    def early(self) -> int:
        return int(self.sandbox.pacing().get(self.name, {}).get("early", 0))


class SmsDestination(EspDestination):
    """Infobip (a tag) or Twilio Engage (a boolean trait): members are people
    shown by id (the person key) and phone; no unsubscribe in the provider."""

    channel = "sms"
    unsubscribes = False

    def reset(self) -> None:
        super().reset()
        if self.name == "infobip":  # a person outside the sync holds TAKEN_PHONE
            url, key = credentials(self.name, self.sandbox.base_url)
            person = {"externalId": "someone-else",
                      "contactInformation": {"phone": [{"number": TAKEN_PHONE[1:]}]}}
            response = httpx.post(f"{url}/people/2/persons/batch", json={"people": [person]},
                                  headers={"authorization": f"App {key}"}, timeout=10)
            response.raise_for_status()
            assert response.json()["errorCount"] == 0, response.text

    def refuse(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.name == "infobip":
            return {**row, "phone_e164": TAKEN_PHONE}
        return {**row, "first_name": "N" + "x" * OVERSIZE}

    def holds(self) -> dict[str, str]:
        found = self._list() or {}
        out = {}
        for m in found.get("members", []):
            version = (m.get("attributes") or {}).get("version")
            out[str(m["id"])] = str(int(float(version))) if version is not None else "?"
        return out

    def unsubscribe(self, emails: list[str]) -> None:
        raise AssertionError("SMS consent is the warehouse's: nobody unsubscribes in "
                             f"{self.name}")

    def suppressed(self) -> set[str]:
        return set()


class WebhookDestination(Destination):
    name = "webhook"

    def __init__(self, sink: SinkServer) -> None:
        self.sink = sink

    def spec_credentials(self) -> dict[str, Any]:
        return {"api_key_env": KEY_ENV, "base_url": self.sink.url, "timeout": 10.0,
                "options": {"max_records": 1000, "concurrency": 2}}

    def env(self) -> dict[str, str]:
        return {KEY_ENV: SINK_SECRET}

    def arm(self, scenario: Scenario) -> None:
        fresh = SinkFaults(**scenario.faults)
        for f in dataclasses.fields(SinkFaults):
            setattr(self.sink.faults, f.name, getattr(fresh, f.name))
        # the receiver refuses the refused records in every scenario, as an ESP does
        self.sink.faults.reject_keys = set(self._rejects)

    _rejects: set[str] = set()

    def calm(self) -> None:
        keep = self.sink.faults.reject_keys
        self.arm(Scenario("webhook", "calm"))
        self.sink.faults.reject_keys = keep

    def progress(self) -> int:
        return len(self.sink.received())

    def writes_since(self, cursor: int) -> tuple[list[tuple[str, str, str]], int]:
        rows = self.sink.received()[cursor:]
        return ([(r["key"], str(r["hash"]), str(r["operation"])) for r in rows],
                cursor + len(rows))

    def holds(self) -> dict[str, str]:
        members: dict[str, str] = {}
        for r in self.sink.received():
            if r["operation"] == "remove":
                members.pop(r["key"], None)
            else:
                members[r["key"]] = str((r.get("fields") or {}).get("version"))
        return members

    def unsubscribe(self, emails: list[str]) -> None:
        return None  # a webhook has no consent of its own

    def suppressed(self) -> set[str]:
        return set()

    def early(self) -> int:
        return int(self.sink.pacing()["early"])


# -- running syncs ----------------------------------------------------------------------
def make_spec(dest: Destination) -> SyncSpec:
    return SyncSpec(
        name=f"faults_{dest.name}",
        audience="demo.fault_audience",
        provider=dest.name,
        destination=TARGET.get(dest.name, "fault_audience"),
        mode="mirror",
        fields={"first_name": "first_name", "version": "version"},
        guards={"max_removal_share": 1.0, "max_rejects_share": 1.0, "max_attempts": 50},
        credentials=dest.spec_credentials(),
    )


def _provider(spec: SyncSpec, env: dict[str, str], batch: int) -> Any:
    """The connector with small batches, so a small audience still goes in several."""
    prov = make_provider(spec.provider, spec.provider_settings(env))
    limits = prov.limits
    prov.limits = dataclasses.replace(
        limits, max_records=min(limits.max_records, batch),
        remove_max_records=min(limits.remove_max_records or batch, batch))
    return prov


def run_once(spec: SyncSpec, wh: Path, env: dict[str, str], batch: int,
             stop: Any = None) -> engine.RunReport:
    con = duckdb.connect(str(wh))
    prov = _provider(spec, env, batch)
    try:
        return engine.run(spec, con, provider=prov, env=env, policy=POLICY, stop=stop)
    finally:
        prov.close()
        con.close()


def run_forked(spec: SyncSpec, wh: Path, env: dict[str, str], batch: int, signum: int,
               after: int, progress: Callable[[], int]) -> tuple[bool, int]:
    """The run in a forked child; ``signum`` is sent once ``progress()`` has moved
    ``after`` steps. Returns (killed mid-run, exit status)."""
    start = progress()
    pid = os.fork()
    if pid == 0:  # the child: the engine, with the CLI's graceful stop
        code = 70
        try:
            with stop_on_signals() as stop:
                code = run_once(spec, wh, env, batch, stop).exit_code
        except BaseException:  # noqa: BLE001 - the child reports by exit status only
            code = 71
        finally:
            os._exit(code)
    killed = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if progress() - start >= after:
            os.kill(pid, signum)
            killed = True
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    return killed, status


def _settle(progress: Callable[[], int]) -> None:
    """Let the destination finish requests a killed process had already sent."""
    seen = -1
    while seen != (now := progress()):
        seen = now
        time.sleep(0.1)


def _committed(wh: Path, sync: str) -> dict[str, str]:
    """Records the state has committed: hash known and no write-ahead row."""
    con = duckdb.connect(str(wh), read_only=True)
    try:
        if not con.execute("select count(*) from information_schema.tables where "
                           "table_schema = 'activations' and table_name = 'sync_state'"
                           ).fetchone()[0]:
            return {}
        rows = con.execute(
            "select s.record_key, s.record_hash from activations.sync_state s "
            "where s.sync_name = ? and s.record_hash <> '' and not exists (select 1 from "
            "activations.sync_inflight i where i.sync_name = s.sync_name "
            "and i.record_key = s.record_key)", [sync]).fetchall()
        return dict(rows)
    finally:
        con.close()


class Ledger:
    """What the destination last accepted per record, and the resends found."""

    def __init__(self, dest: Destination) -> None:
        self.dest = dest
        self.cursor = 0
        self.last: dict[str, str] = {}  # key -> content last accepted
        self.resent: set[str] = set()

    def run(self, wh: Path, sync: str, do: Callable[[], Any]) -> Any:
        committed = _committed(wh, sync)
        hashed = isinstance(self.dest, WebhookDestination)  # the sink logs the hash itself
        before = dict(self.last)
        try:
            return do()
        finally:
            writes, self.cursor = self.dest.writes_since(self.cursor)
            for key, content, op in writes:
                if op != "upsert":
                    continue
                same = (content == committed.get(key)) if hashed else (
                    key in committed and content == before.get(key))
                if same:
                    self.resent.add(key)
                self.last[key] = content


class Chain:
    """One destination's scenarios, one after another on one warehouse and one
    destination: each changes the audience and syncs it under its own fault."""

    def __init__(self, dest: Destination, workdir: Path, n: int, batch: int,
                 kill_within: int = 3) -> None:
        self.dest, self.n, self.batch = dest, n, batch
        self.kill_within = kill_within  # the kill comes after 1..this many requests
        self.wh = workdir / f"faults-{dest.name}.duckdb"
        self.wh.unlink(missing_ok=True)
        self.spec = make_spec(dest)
        self.env = dest.env()
        self.ledger = Ledger(dest)
        self.audience = Audience.start(n)
        self.rejecting = False
        self.unsubscribed: list[str] = []
        self.number = 0
        self.early = 0

    def run(self, sc: Scenario) -> Result:
        result = Result(sc)
        clock = time.perf_counter()
        rng = random.Random(f"{sc.label}:{sc.seed}")
        dest, spec, wh = self.dest, self.spec, self.wh
        self.number += 1
        self.rejecting = self.rejecting or sc.rejects
        # a kill needs a run long enough to land in: half the audience changes
        self.audience = self.audience.step(self.n, self.number, rejects=sc.rejects,
                                           churn=0.5 if sc.kill else 0.2)
        refused = {k for k, (e, _, _) in self.audience.rows.items() if BAD_DOMAIN in e}
        if isinstance(dest, WebhookDestination):
            dest._rejects = refused
        if dest.unsubscribes and self.number > 1:
            # members unsubscribe in the ESP; the warehouse has not heard yet, and
            # their data changes, so the sync writes to them again
            members = dest.holds()
            chosen = [k for k in sorted(self.audience.sendable()) if k in members
                      and self.audience.rows[k][0] not in self.unsubscribed][:2]
            for k in chosen:
                email, version, sendable = self.audience.rows[k]
                self.audience.rows[k] = (email, version + 1, sendable)
            emails = [self.audience.rows[k][0] for k in chosen]
            dest.unsubscribe(emails)
            self.unsubscribed += emails
            missing = set(emails) - dest.suppressed()
            if missing:
                result.problems.append(f"the ESP did not take the unsubscribe of {missing}")
        self.audience.write(wh, dest.channel, dest.refuse)
        dest.arm(sc)
        try:
            for attempt in range(MAX_RUNS):
                result.runs += 1
                if sc.kill is not None and attempt == 0:
                    after = rng.randint(1, self.kill_within)
                    killed, status = self.ledger.run(wh, spec.name, lambda a=after: run_forked(
                        spec, wh, self.env, self.batch, sc.kill, a, dest.progress))
                    _settle(dest.progress)
                    result.kills += killed
                    if sc.kill == signal.SIGTERM and killed and os.WIFEXITED(status):
                        if os.WEXITSTATUS(status) not in (0, 6):
                            result.problems.append(f"SIGTERM: exit {os.WEXITSTATUS(status)}")
                    continue
                report = self.ledger.run(
                    wh, spec.name, lambda: run_once(spec, wh, self.env, self.batch))
                if report.status == "succeeded":
                    break
            else:
                result.problems.append(f"no run succeeded in {MAX_RUNS}")
        finally:
            dest.calm()
        _check(result, dest, spec, wh, self.audience, self.unsubscribed)
        result.keys = set(self.audience.sendable())
        result.records = len(result.keys)
        result.early -= self.early
        self.early += result.early
        result.resent = len(self.ledger.resent)
        self.ledger.resent.clear()
        result.seconds = time.perf_counter() - clock
        return result


def _check(result: Result, dest: Destination, spec: SyncSpec, wh: Path,
           audience: Audience, unsubscribed: list[str]) -> None:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        rejects = dict(con.execute(
            "select record_key, reason from activations.sync_rejects where sync_name = ?",
            [spec.name]).fetchall())
        state = {k for (k,) in con.execute(
            "select record_key from activations.sync_state where sync_name = ?",
            [spec.name]).fetchall()}
        locks = con.execute("select count(*) from activations.sync_locks").fetchone()[0]
    finally:
        con.close()
    refused = {k for k, (e, _, s) in audience.rows.items() if s and BAD_DOMAIN in e}
    if set(rejects) != refused or not all(rejects.values()):
        result.problems.append(f"rejects listed {sorted(rejects)} != refused {sorted(refused)}")
    result.rejected = len(rejects)
    expected = {k: str(v) for k, (_, v) in audience.sendable().items() if k not in refused}
    holds = dest.holds()
    result.lost = sum(1 for k, v in expected.items() if holds.get(k) != v)
    result.extra = len(set(holds) - set(expected))
    if state != set(holds):
        result.problems.append(f"state != destination: {len(state ^ set(holds))} records")
    if locks:
        result.problems.append("a lock was left behind")
    con = duckdb.connect(str(wh))
    try:
        p = engine.plan(spec, con)
    finally:
        con.close()
    if p.changed or p.removed or p.added > len(refused):
        result.problems.append(
            f"state != audience: plan added {p.added} changed {p.changed} removed {p.removed}")
    result.resubscribed = len(set(unsubscribed) - dest.suppressed())
    result.early = dest.early()


@contextmanager
def destination(name: str, sandbox: SandboxServer | None, workdir: Path
                ) -> Iterator[Destination]:
    if name == "webhook":
        log = workdir / "sink.jsonl"
        with SinkServer(SINK_SECRET, log) as sink:
            yield WebhookDestination(sink)
    else:
        assert sandbox is not None
        dest = (SmsDestination if name in SMS else EspDestination)(sandbox, name)
        dest.reset()
        try:
            yield dest
        finally:
            dest.reset()


#: the totals of this process (the test session prints them at its end)
SESSION = Totals()
