"""One sync run: plan -> guard -> deliver -> commit, and the run record.

Only what the destination confirmed enters the state, batch by batch, in one
transaction per batch: a crash at any moment loses nothing (unconfirmed
records are planned again next run) and resends no confirmed record (they are
in the state). Before sending, the run notes every key it is about to send in
``sync_inflight`` (one set-based insert, with what it sends of each); each
batch's commit writes its confirmed records' state and changelog rows from
those rows, named by plan number (``activations.sync.state.sent``), and clears
the keys whose outcome it knows. Keys left by a crash are sent again by the next run,
whatever their data is by then: the destination may hold what was sent.
A dry run plans on a read-only view of the warehouse and never builds the
provider: no HTTP, no state row, no lock.

This module is the API Dagster and the command line call::

    specs = load_syncs()
    p = plan(spec, conn)            # SyncPlan with guard verdicts
    report = run(spec, conn, dry_run=False, force=False, progress=None)
    report.metadata()               # plain dict for the asset materialization
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from activations.contract.records import PermanentError, Provider, ProviderSettings, TransientError
from activations.coupons.assign import assign as assign_coupons
from activations.errors import UserError
from activations.providers.http import redact, secret_variants
from activations.providers.registry import make_provider
from activations.sync.audience import channel_of, check_audience, invalid_reason
from activations.sync.committer import Committer
from activations.sync.delivery.batching import cut_batches
from activations.sync.delivery.dispatch import BatchResult, dispatch
from activations.sync.delivery.pacing import limiter_for
from activations.sync.delivery.retries import RetryPolicy
from activations.sync.guards import (
    UNFORCEABLE,
    GuardVerdict,
    rejects_message,
    rejects_over,
)
from activations.sync.handoffs import quick_handoffs
from activations.sync.interrupt import Interrupted, Stop
from activations.sync.plan import SyncPlan, drop, iter_records
from activations.sync.plan import plan as make_plan
from activations.sync.specs import SyncSpec, load_syncs
from activations.sync.state import (
    INFLIGHT,
    REJECTS,
    RUN_COUNTS,
    STATE,
    OtherTarget,
    SentCommit,
    acquire_lock,
    ensure_schema,
    finish_run,
    mark_planned_inflight,
    record_rejects,
    release_lock,
    retire_other_targets,
    set_run_counts,
    settle_inflight,
    start_run,
)
from activations.sync.state.sent import Rejection
from activations.warehouse.db import Db

__all__ = ["RunReport", "SyncPlan", "load_syncs", "plan", "run", "EXIT_CODES"]

Progress = Callable[[int, int], None]

# what `activations run` exits with, by run status
EXIT_CODES = {
    "succeeded": 0,
    "dry_run": 0,
    "failed": 4,  # destination unreachable, refused the key, or too many rejects
    "blocked": 3,  # a guard stopped the run; rerun with --force after checking
    "interrupted": 6,  # SIGTERM / Ctrl-C: what was confirmed is committed; rerun to finish
}


#: confirmed batches that may wait for their commit while the next ones are sent
#: (beyond the delivery concurrency): the committer folds them into one
#: transaction. A crash may resend them (their write-ahead rows are still there),
#: never lose them; 0 would make every commit keep pace with the requests.
COMMIT_LAG = 8


class RunFailed(UserError):
    exit_code = 4


class RunInterrupted(UserError):
    exit_code = 6


@dataclass
class RunReport:
    sync: str
    provider: str
    destination: str
    mode: str
    status: str = "running"  # succeeded | failed | blocked | interrupted | dry_run
    run_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float = 0.0
    planned: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    sent: int = 0
    confirmed: int = 0
    rejected: int = 0
    skipped: int = 0
    invalid: int = 0
    gave_up: int = 0
    unconfirmed: int = 0
    requests: int = 0
    job_ids: list[str] = field(default_factory=list)
    guards: list[GuardVerdict] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # what the user should know of this run
    forced: bool = False
    dry_run: bool = False
    coupons_assigned: int = 0  # coupon codes this run gave out (activations.coupons)
    plan: SyncPlan | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "dry_run")

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.status, 1)

    def counts(self) -> dict[str, int]:
        """The run's counters, named as the columns of ``activations.sync_runs``."""
        return {n: int(getattr(self, n)) for n in RUN_COUNTS}

    def metadata(self) -> dict[str, Any]:
        """Plain types only (for Dagster asset metadata): the run, its counts,
        guard verdicts and, once planned, the audience's size and the members."""
        sizes = {}
        if self.plan is not None:
            p = self.plan
            sizes = {"audience_rows": p.audience_rows, "sendable": p.sendable, "members": p.members}
        return {
            "sync": self.sync,
            "provider": self.provider,
            "destination": self.destination,
            "mode": self.mode,
            "status": self.status,
            "run_id": self.run_id or "",
            "duration_s": round(self.duration_s, 3),
            **self.counts(),
            **sizes,
            "job_ids": list(self.job_ids),
            "guards": {g.name: {"passed": g.passed, "message": g.message} for g in self.guards},
            "error": self.error or "",
            "notes": list(self.notes),
            "forced": self.forced,
            "dry_run": self.dry_run,
            "coupons_assigned": self.coupons_assigned,
        }

    @property
    def forceable(self) -> bool:
        """A blocked run that ``--force`` would let through."""
        return not any(not g.passed and g.name in UNFORCEABLE for g in self.guards)

    def raise_for_status(self) -> None:
        if self.status == "blocked":
            failed = "; ".join(g.message for g in self.guards if not g.passed)
            raise RunFailed(
                f"sync {self.sync!r} blocked by a guard: {failed}",
                hint="check the audience, then rerun with --force"
                if self.forceable
                else "fix what the guard names (--force does not override it), then rerun",
            )
        if self.status == "failed":
            raise RunFailed(f"sync {self.sync!r} failed: {self.error}")
        if self.status == "interrupted":
            raise RunInterrupted(
                f"sync {self.sync!r} interrupted: {self.error}", hint="run it again to finish"
            )


def plan(spec: SyncSpec, conn: Any, *, keep: bool = False) -> SyncPlan:
    """The plan of one sync (counts, samples, guard verdicts), computed in the
    warehouse. Its temporary tables are dropped unless ``keep`` (then call
    ``activations.sync.plan.drop(db, plan)`` when done)."""
    db = Db.wrap(conn)
    p = make_plan(spec, db)
    if not keep:
        drop(db, p)
    return p


def _from_plan(report: RunReport, p: SyncPlan) -> None:
    for name, value in p.counts().items():
        setattr(report, name, value)
    report.guards = list(p.guards)
    report.plan = p


def run(
    spec: SyncSpec,
    conn: Any,
    *,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    provider: Provider | None = None,
    env: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
    stop: Stop | None = None,
) -> RunReport:
    """Run one sync. Returns the report; the status says how it ended
    (``report.raise_for_status()`` turns failed/blocked/interrupted into an error).
    ``stop`` (``activations.sync.interrupt``) set during delivery ends the run
    gracefully: no new batch, the ones in flight finish, confirmed outcomes are
    committed, status ``interrupted``."""
    db = Db.wrap(conn)
    if policy is None:
        r = spec.retries
        policy = RetryPolicy(
            attempts=r.attempts,
            initial=r.initial,
            max_wait=r.max_wait,
            max_retry_after=r.max_retry_after,
        )
    report = RunReport(
        spec.name, spec.provider, spec.destination, spec.mode, forced=force, dry_run=dry_run
    )
    clock = time.perf_counter()
    if dry_run:
        p = make_plan(spec, db)
        try:
            _from_plan(report, p)
            report.status = "dry_run"
        finally:
            drop(db, p)
        report.duration_s = time.perf_counter() - clock
        return report

    columns = check_audience(spec, db)  # a missing audience or column fails before any write
    settings = spec.provider_settings(env)  # so does a missing secret
    ensure_schema(db)
    run_id = uuid.uuid4().hex
    report.run_id = run_id
    acquire_lock(db, spec.name, run_id)
    p: SyncPlan | None = None
    try:
        report.started_at = start_run(
            db,
            run_id,
            spec.name,
            spec.provider,
            spec.destination,
            spec.mode,
            force,
            audience=spec.audience_table,
        )
        try:
            # state written for another provider or destination is no state of this one
            for other in retire_other_targets(
                db, spec.name, run_id, spec.provider, spec.destination
            ):
                report.notes.append(_retired_note(spec, other))
            settle_inflight(db, spec.name, mode=spec.mode)  # what a crash left unknown
            # the audience was checked above; state of other targets was just retired
            p = make_plan(spec, db, columns=columns, previous=[])
            if spec.coupons is not None and p.coupons_needed and not _stops(p, force):
                p = _assign_coupons(db, spec, run_id, p, report)
            _from_plan(report, p)
            with db.transaction():
                set_run_counts(db, run_id, report.counts())
            if _stops(p, force):
                report.status = "blocked"
                report.error = "; ".join(g.message for g in p.guards if not g.passed)
                # nothing was added, changed or removed (the plan keeps what would be)
                report.added = report.changed = report.removed = 0
            else:
                prov = provider or make_provider(spec.provider, settings)
                try:
                    _deliver(db, spec, run_id, p, prov, settings, report, progress, policy, stop)
                finally:
                    if provider is None:
                        close = getattr(prov, "close", None)
                        if callable(close):
                            close()
                # after delivery: removing the old membership of a person whose address
                # became invalid clears their rejects; the invalid address stays recorded
                _record_invalid(db, spec, run_id, p)
                if spec.mode == "events":
                    _forget_departed(db, spec, p)
                if report.error:
                    report.status = "failed"
                elif stop is not None and stop.is_set():
                    report.status = "interrupted"
                    report.error = (
                        f"{stop.reason}: {report.sent} of {report.planned} records sent, "
                        f"{report.confirmed} confirmed and committed; rerun to send the rest"
                    )
                elif rejects_over(spec.guards, report.sent, report.rejected):
                    report.status = "failed"
                    report.error = rejects_message(spec.guards, report.sent, report.rejected)
                else:
                    report.status = "succeeded"
        except BaseException as exc:
            report.status = "failed"
            report.error = report.error or _safe(str(exc), settings)
            raise
        finally:
            report.ended_at = finish_run(
                db,
                run_id,
                report.status,
                report.counts(),
                started=report.started_at,
                job_ids=report.job_ids,
                error=report.error,
            )
            report.duration_s = time.perf_counter() - clock
    finally:
        try:
            if p is not None:
                drop(db, p)
        finally:
            release_lock(db, spec.name, run_id)
    return report


def _stops(p: SyncPlan, force: bool) -> bool:
    """A failed guard stops the run; ``force`` overrides all but ``UNFORCEABLE``."""
    return any(not g.passed and (not force or g.name in UNFORCEABLE) for g in p.guards)


def _assign_coupons(
    db: Db, spec: SyncSpec, run_id: str, p: SyncPlan, report: RunReport
) -> SyncPlan:
    """Give a code to everyone the plan found without one, then plan again so
    the codes are part of the records (and of their hashes). Anyone still
    without a code blocks the run: nobody is sent an empty code."""
    assert spec.coupons is not None
    got = assign_coupons(
        db,
        spec.coupons,
        p.snapshot,
        sync_name=spec.name,
        audience=spec.audience_table,
        run_id=run_id,
    )
    report.coupons_assigned = got.assigned
    if got.assigned:
        report.notes.append(
            f"gave {got.assigned} people their own code of coupon campaign "
            f"{spec.coupons.campaign!r} ({spec.coupons.source})"
        )
    drop(db, p)
    p = make_plan(spec, db, previous=p.previous)
    if p.coupons_needed:
        missing = (
            f"{p.coupons_needed} people still have no code of campaign "
            f"{spec.coupons.campaign!r} after assignment ({got.missing} codes missing); "
            f"import more with `activations coupons import FILE --campaign "
            f"{spec.coupons.campaign}`"
        )
        p.guards = [g for g in p.guards if g.name != "coupons"]
        p.guards.append(GuardVerdict("coupons", False, missing))
    return p


def _retired_note(spec: SyncSpec, other: OtherTarget) -> str:
    return (
        f"the sync now sends to {spec.provider} {spec.destination!r}, no longer to "
        f"{other.describe()}: started fresh; the {other.records} records confirmed there "
        "stay there and are no longer managed (changelog action 'retired')"
    )


def _safe(text: str, settings: ProviderSettings) -> str:
    """Error text without the key, in any of its forms (``providers.http.redact``)."""
    return redact(text, secret_variants(settings.api_key))


def _record_invalid(db: Db, spec: SyncSpec, run_id: str, p: SyncPlan) -> None:
    """Invalid emails (phone numbers, for SMS) are never sent: they are stored
    as rejects with the reason."""
    if not p.invalid:
        return
    reason = invalid_reason(spec)
    rows = db.query(  # once per record and data: not again on every run
        f"select s.record_key, s.record_hash from {p.snapshot} as s where s.reason = ? "
        f"and not exists (select 1 from {REJECTS} as r where r.sync_name = ? "
        "and r.record_key = s.record_key and r.record_hash = s.record_hash) "
        "order by s.record_key",
        [reason, spec.name],
    )
    record_rejects(db, spec.name, run_id, "validate", [(k, h, reason, False) for k, h in rows])


def _forget_departed(db: Db, spec: SyncSpec, p: SyncPlan) -> None:
    """Events mode: a person who left the audience fires again on re-entry. One
    still in it but not sendable for now (frequency cap, cooldown) has not
    left: the state keeps that they got the event, so it is not sent again when
    they become sendable."""
    with db.transaction():
        db.execute(
            f"delete from {STATE} where sync_name = ? and record_key not in "
            f"(select record_key from {p.snapshot} where record_key is not null)",
            [spec.name],
        )


def _deliver(
    db: Db,
    spec: SyncSpec,
    run_id: str,
    p: SyncPlan,
    prov: Provider,
    settings: ProviderSettings,
    report: RunReport,
    progress: Progress | None,
    policy: RetryPolicy,
    stop: Stop | None = None,
) -> None:
    limits = prov.limits
    limiter = limiter_for(
        spec.provider, settings.api_key or spec.name, limits.requests_per_second, limits.burst
    )
    total = p.to_send
    done = 0
    if progress:
        progress(0, total)
    update = getattr(prov, "update", None)
    steps: list[tuple[str, tuple[str, ...], Callable[..., Any], bool]]
    if spec.mode == "events":
        steps = [("event", ("added",), prov.send_events, False)]
    elif spec.mode == "update" and callable(update):
        steps = [("update", ("added", "changed"), update, False)]
    else:
        actions = {"create": ("added",), "update": ("changed",)}.get(
            spec.mode, ("added", "changed")
        )
        steps = [("upsert", actions, prov.upsert, False)]
    if spec.mode == "mirror":
        steps.append(("remove", ("removed",), prov.remove, True))

    clear_rejects = bool(
        db.scalar(f"select count(*) from {REJECTS} where sync_name = ?", [spec.name])
    )
    keep_email = channel_of(spec) != "sms"  # an SMS record's address is its phone
    sending = tuple(a for _, actions, _, _ in steps for a in actions)
    # write-ahead rows an earlier run left (settle_inflight keeps a mirror's unknown
    # additions): a confirmed record settles those of its key too
    earlier = bool(db.scalar(f"select count(*) from {INFLIGHT} where sync_name = ?", [spec.name]))
    # the plan numbers additions first (by action): up to here a confirmation is an insert
    added_through = db.scalar(f"select max(seq) from {p.table} where action = 'added'")
    if p.to_send:
        # write-ahead, once and set-based, before anything leaves: every key this run
        # sends stays "in flight" until its batch's commit knows the outcome, so after
        # a crash the next run resends it whatever its data is by then (settle_inflight)
        mark_planned_inflight(db, spec.name, run_id, p.table, sending)
    attempted: set[str] = set()  # keys a request carried (their outcome may be unknown)
    # commits run on their own connection while the next batches go out, the
    # batches queued meanwhile in one transaction (group commit)
    with (
        quick_handoffs(),
        Committer(db, max_group=COMMIT_LAG + limits.concurrency) as committer,
    ):
        for operation, actions, call, removal in steps:
            if stop is not None and stop.is_set():
                break
            # plan number of each record read and not answered yet: a commit
            # names its records by these (activations.sync.state.sent)
            seq_of: dict[str, int] = {}

            def records(actions: tuple[str, ...] = actions, seq_of: dict[str, int] = seq_of):
                for seq, record in iter_records(db, p, actions):
                    seq_of[record.key] = seq
                    yield record

            def on_done(
                result: BatchResult, operation: str = operation, seq_of: dict[str, int] = seq_of
            ) -> None:
                nonlocal done
                batch = result.batch.records
                if not result.batch.oversize:
                    report.sent += len(batch)
                seqs: list[int] = []
                ids: list[str | None] = []
                rejected: list[Rejection] = []
                for o in result.outcomes:
                    seq = seq_of.pop(o.key, None)
                    if seq is None:  # not a record of this batch (or answered twice)
                        continue
                    if o.status == "confirmed":
                        seqs.append(seq)
                        ids.append(o.destination_id)
                    else:
                        rejected.append((seq, o.key, "", o.reason or "rejected", o.retryable))
                if rejected:
                    hashes = {r.key: r.hash for r in batch}
                    rejected = [(s, k, hashes[k], why, again) for s, k, _, why, again in rejected]
                for r in result.missing:
                    seq_of.pop(r.key, None)
                report.confirmed += len(seqs)
                report.rejected += len(rejected)
                report.unconfirmed += len(result.missing)
                committer.submit(
                    SentCommit(
                        spec.name,
                        run_id,
                        operation,
                        seqs=seqs,
                        ids=ids,
                        rejected=rejected,
                        clear_rejects=clear_rejects,
                        keep_email=keep_email,
                        earlier=earlier,
                        added_through=int(added_through or 0),
                        run_counts=report.counts(),
                    )
                )
                done += len(batch)
                if progress:
                    progress(done, total)

            def batches(removal: bool = removal):
                return cut_batches(records(), limits, prov.record_size, removal=removal)

            def send(batch: Any, call: Callable[..., Any] = call) -> Any:
                # checked before every attempt: once stopped, a batch not yet sent and a
                # retry not yet made are abandoned (never committed)
                if stop is not None and stop.is_set():
                    raise Interrupted(stop.reason)
                attempted.update(r.key for r in batch)
                return call(spec.destination, batch)

            try:
                dispatch(
                    batches(),
                    send,
                    on_done,
                    concurrency=limits.concurrency,
                    policy=policy,
                    limiter=limiter,
                    max_record_bytes=limits.max_record_bytes,
                    unsettled=committer.unsettled,
                    stop=stop.is_set if stop is not None else None,
                    commit_lag=COMMIT_LAG,
                )
            except Interrupted:
                break
            except (PermanentError, TransientError) as exc:
                report.error = f"{spec.provider} {operation} to {spec.destination!r}: " + _safe(
                    str(exc), settings
                )
                break
            finally:
                delivery = getattr(prov, "report", None)
                if delivery is not None:
                    report.requests = int(delivery.requests)
                    report.job_ids = list(delivery.job_ids)
    if stop is not None and stop.is_set() and p.to_send:
        _forget_unsent(db, spec, run_id, p, sending, attempted)


def _forget_unsent(
    db: Db, spec: SyncSpec, run_id: str, p: SyncPlan, sending: tuple[str, ...], sent: set[str]
) -> None:
    """A stopped run's write-ahead rows of records no request ever carried: their
    destination is known (untouched), so the next run plans them as usual instead
    of resending them as unknown."""
    marks = ", ".join("'" + a.replace("'", "''") + "'" for a in sending)
    planned = db.query(f"select record_key from {p.table} where action in ({marks})")
    unsent = [k for (k,) in planned if k not in sent]
    with db.transaction():
        db.delete_keys(INFLIGHT, spec.name, unsent, run_id=run_id)
