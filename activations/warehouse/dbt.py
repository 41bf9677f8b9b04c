"""Run the dbt project from Python, with the project's paths and warehouse.

dbt runs in-process through its programmatic entry point (``dbtRunner``), so
the result of every node is read directly, not scraped from logs. The
project dir, profiles dir and ``DUCKDB_PATH`` come from ``activations.paths``
unless given. A failure becomes one ``UserError`` that names each failed node
(model, test, seed...), the file it is defined in, and dbt's own message.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from activations import clock
from activations.errors import Interrupted, UserError
from activations.paths import DBT_PROJECT_DIR, duckdb_path
from activations.warehouse.connections import connect, connect_duckdb

COMMANDS = ("build", "run", "test", "seed", "parse", "compile", "source freshness", "ls")
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class NodeResult:
    """What dbt reported for one node."""

    unique_id: str
    name: str
    resource_type: str  # model, test, unit_test, seed, source...
    path: str  # original file path, relative to the dbt project
    status: str  # success, error, fail, pass, warn, skipped...
    message: str
    seconds: float
    model: str = ""  # for a data or unit test: the model it tests
    model_path: str = ""  # that model's SQL file

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


@dataclass(frozen=True)
class DbtRun:
    """The outcome of one successful dbt invocation."""

    command: str
    args: list[str]
    nodes: list[NodeResult] = field(default_factory=list)

    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.status] = counts.get(node.status, 0) + 1
        return counts

    @property
    def warnings(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status == "warn"]


#: dbt_project/selectors.yml: what an hour of new events touches (the hourly
#: audiences and every model they read); `activations build --hourly`, Dagster's
#: hourly_build job
HOURLY_SELECTOR = "hourly"
#: the vars of an hourly build: the data tests of the large event tables check
#: the rows loaded in the last day, not their whole history (the daily build
#: does; dbt_project/macros/recent_rows.sql)
HOURLY_VARS: dict[str, int] = {"tests_recent_hours": 24}


def build_vars(given: Mapping[str, Any] | None, *, hourly: bool = False) -> dict[str, Any]:
    """The dbt vars of one build: the given ones with ``as_of`` fixed (now, UTC,
    unless given) and, on the hourly path, ``HOURLY_VARS`` under them.
    `activations build` and Dagster's dbt step both build their vars here."""
    return clock.with_as_of({**(HOURLY_VARS if hourly else {}), **(given or {})})


def dbt_env(
    *,
    warehouse: Path | str | None = None,
    profiles_dir: Path | str | None = None,
    target: str | None = None,
) -> dict[str, str]:
    """Environment variables a dbt process of this project needs (to add to os.environ)."""
    env = {
        "DUCKDB_PATH": str(Path(warehouse).resolve() if warehouse else duckdb_path()),
        "DBT_PROFILES_DIR": str(profiles_dir or DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    if target:
        env["DBT_TARGET"] = target
    return env


def parse_vars(text: str | None) -> dict[str, Any]:
    """dbt ``--vars`` as YAML (``{as_of: '2026-06-30'}``), checked, as a dict."""
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(
            f"--vars is not valid YAML: {text!r} ({exc.__class__.__name__})",
            hint="write a YAML mapping, e.g. --vars \"{as_of: '2026-06-30'}\"",
        ) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserError(
            f"--vars must be a YAML mapping, got {type(value).__name__}: {text!r}",
            hint="write a YAML mapping, e.g. --vars \"{as_of: '2026-06-30'}\"",
        )
    return value


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in-process after a run.

    dbt-duckdb holds one database instance per process until exit; left open,
    it keeps the warehouse file locked and makes a later read-only connection
    from this process fail ("different configuration")."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            try:
                env.close()
            except Exception:  # already closed: nothing to release
                pass


def _model_paths(target_dir: Path) -> dict[str, str]:
    """unique_id -> SQL file of every model, from the manifest dbt just wrote."""
    try:
        manifest = json.loads((target_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    return {
        uid: node.get("original_file_path", "")
        for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model"
    }


def _tested_model(node: Any) -> str:
    """The unique_id of the model a data test or unit test is about, or ''."""
    direct = getattr(node, "tested_node_unique_id", None) or getattr(node, "attached_node", None)
    if direct:
        return direct
    if str(getattr(node, "resource_type", "")) == "unit_test":
        depends_on = getattr(getattr(node, "depends_on", None), "nodes", None) or []
        return next((uid for uid in depends_on if uid.startswith("model.")), "")
    return ""


def _node_results(result: Any, model_paths: Mapping[str, str]) -> list[NodeResult]:
    nodes: list[NodeResult] = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None:  # e.g. `ls` returns plain strings
            continue
        status = getattr(item, "status", "")
        if (
            str(getattr(node, "resource_type", "")) == "operation"
            and str(getattr(status, "value", status)) not in FAILED_STATUSES
        ):
            continue  # on-run-start/end hooks (the build record): reported only when they fail
        tested = _tested_model(node)
        nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                name=node.name,
                resource_type=str(getattr(node, "resource_type", "")),
                path=getattr(node, "original_file_path", "") or "",
                status=str(getattr(status, "value", status)),
                message=str(getattr(item, "message", None) or ""),
                seconds=float(getattr(item, "execution_time", 0.0) or 0.0),
                model=tested.rsplit(".", 1)[-1] if tested else "",
                model_path=model_paths.get(tested, ""),
            )
        )
    return nodes


def _describe(node: NodeResult) -> str:
    message = " ".join(node.message.split()) or node.status
    if node.model and node.model_path and node.model_path != node.path:
        where = f"{node.path}; model {node.model} in {node.model_path}"
        return f"{node.resource_type} {node.name} on {node.model} ({where}): {message}"
    return f"{node.resource_type} {node.name} ({node.path}): {message}"


#: what dbt's node selection syntax is made of: names, paths, globs, graph and set
#: operators (+ @ , space), methods (tag:, path:, config.x:, ...)
_SELECTOR = re.compile(r"[A-Za-z0-9_.*+@:/,=\-]+")


def check_selection(option: str, values: Sequence[str]) -> None:
    """Refuse a ``--select``/``--exclude`` that is no dbt selection (a ``;``, a
    quote, a shell pipe...) before dbt parses the project, naming the option
    and the character, so no missing file or model is blamed for it."""
    for value in values:
        for word in value.split():
            if not _SELECTOR.fullmatch(word):
                bad = next(ch for ch in word if not _SELECTOR.fullmatch(ch))
                raise UserError(
                    f"{option} {value!r}: {bad!r} is not part of dbt's selection syntax; "
                    "nothing was built",
                    hint=f"name models, tags or paths separated by spaces, e.g. "
                    f'{option} "customers orders+" (`dbt ls` lists them)',
                )


def _no_traceback(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or exc.__class__.__name__


def run_dbt(
    command: str,
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    vars: Mapping[str, Any] | None = None,
    warehouse: Path | str | None = None,
    target: str | None = None,
    project_dir: Path | str | None = None,
    profiles_dir: Path | str | None = None,
    target_path: Path | str | None = None,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    quiet: bool = False,
) -> DbtRun:
    """Run one dbt command; return each node's result, or raise ``UserError``.

    ``command`` is ``build``, ``run``, ``test``, ``seed``, ``parse``... ``vars``
    become ``--vars`` (e.g. ``{"as_of": "2026-06-30 12:00:00"}``). ``warehouse``
    is the DuckDB file (default: ``DUCKDB_PATH`` or ``warehouse.duckdb``).
    ``target`` picks a profiles.yml output (``duckdb``, ``postgres`` or ``spark``).
    ``target_path`` keeps dbt's artifacts apart (parallel runs, tests).
    A ``--select`` that matches nothing is an error, not a silent no-op.
    """
    from dbt.cli.main import dbtRunner  # heavy import, only when dbt runs

    project = Path(project_dir or DBT_PROJECT_DIR).resolve()
    profiles = Path(profiles_dir).resolve() if profiles_dir else project
    if not (project / "dbt_project.yml").exists():
        raise UserError(
            f"no dbt project at {project} (dbt_project.yml missing)",
            hint="run from the repository, or pass the dbt project directory",
        )
    check_selection("--select", select)
    check_selection("--exclude", exclude)
    args = command.split() + ["--project-dir", str(project), "--profiles-dir", str(profiles)]
    if target:
        args += ["--target", target]
    if target_path:
        args += ["--target-path", str(target_path)]
    if select:
        args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    if vars:
        args += ["--vars", yaml.safe_dump(dict(vars), default_flow_style=True).strip()]
    if quiet:
        args.insert(0, "--quiet")
    args.insert(0, "--no-send-anonymous-usage-stats")
    args += list(extra_args)

    environment = dbt_env(warehouse=warehouse, profiles_dir=profiles, target=target)
    environment.update(env or {})
    target_name = environment.get("DBT_TARGET") or os.environ.get("DBT_TARGET") or "duckdb"
    on_duckdb = target_name == "duckdb"
    if on_duckdb and command.split()[0] not in {"parse", "ls", "list", "compile"}:
        # a clear message for a locked file, before dbt prints its own stack trace
        connect_duckdb(environment["DUCKDB_PATH"]).close()
    with _environ(environment):
        if command.split()[0] in NORMALISING_COMMANDS and "spark" not in target_name:
            # phone numbers to E.164 first (SQL cannot call libphonenumber); on
            # Spark raw.phone_numbers comes with the raw tables, normalised on
            # the DuckDB landing before it is written out (spark.build_from_duckdb)
            prepare_raw(environment["DUCKDB_PATH"] if on_duckdb else None)
        try:
            outcome = dbtRunner().invoke(args)
        except Exception as exc:  # dbt raised past its own handler
            raise UserError(f"dbt {command} could not run: {_no_traceback(exc)}") from None
        finally:
            _release_duckdb()

    where = f"warehouse {environment['DUCKDB_PATH']}" if on_duckdb else f"target {target_name}"
    if _interrupted(outcome.exception):
        raise Interrupted(
            f"dbt {command} interrupted (Ctrl-C) ({where}): each model is replaced in its own "
            "transaction, so the models dbt finished are new and the others keep their "
            "previous version; no table is half-written",
            hint="rerun the same `activations build` to finish",
        )
    if outcome.exception is not None:
        raise UserError(
            f"dbt {command} failed before running any node ({where}): "
            f"{_no_traceback(outcome.exception)}",
            hint="fix the file named above; `dbt parse` reproduces it",
        )
    target_dir = Path(target_path) if target_path else project / "target"
    nodes = _node_results(outcome.result, _model_paths(target_dir))
    failed = [node for node in nodes if node.failed]
    if failed or not outcome.success:
        lines = "\n".join(f"  - {_describe(node)}" for node in failed) or "  (no node reported)"
        # one --select per node: the CLI's --select takes one selector each time
        names = " ".join(
            f"--select {name}" for name in dict.fromkeys(node.model or node.name for node in failed)
        )
        raise UserError(
            f"dbt {command} failed on {len(failed)} node(s) ({where}):\n{lines}",
            hint=_hint(failed, names),
        )
    if select and command.split()[0] in {"build", "run", "test", "seed", "compile"} and not nodes:
        raise UserError(
            f"dbt {command}: --select {' '.join(select)} matches no model, test or seed",
            hint="check the name (`dbt ls` lists them); models are selected by file name",
        )
    return DbtRun(command=command, args=args, nodes=nodes)


#: the dbt commands that read raw tables: the normalisation step runs before them
NORMALISING_COMMANDS = frozenset({"build", "run", "test", "seed"})


def prepare_raw(warehouse: Path | str | None) -> int:
    """What every dbt build needs in ``raw`` beyond what the loaders land: the
    phone numbers of ``raw.customers`` normalised to E.164 into
    ``raw.phone_numbers`` (``activations.warehouse.phones``). ``warehouse`` is
    the DuckDB file; ``None`` for PostgreSQL, reached through
    ``$ACTIVATIONS_WAREHOUSE``, else the ``PG*`` variables profiles.yml's
    ``postgres`` target reads. The one function ``activations build``, the
    tests and the Dagster dbt step all call; returns the pairs normalised."""
    from activations.warehouse.phones import normalise_phones

    if warehouse is None:
        target = os.environ.get("ACTIVATIONS_WAREHOUSE") or " ".join(
            f"{key}={os.environ.get(var, default)}"
            for key, var, default in (
                ("host", "PGHOST", "127.0.0.1"),
                ("port", "PGPORT", "5432"),
                ("user", "PGUSER", "postgres"),
                ("dbname", "PGDATABASE", "warehouse"),
            )
        )
        conn = connect(target)
    else:
        conn = connect_duckdb(warehouse)
    try:
        return normalise_phones(conn)
    finally:
        conn.close()


def _interrupted(exc: BaseException | None) -> bool:
    """dbt's runner returns a Ctrl-C as its exception (sometimes wrapped)."""
    for _ in range(10):  # a chain, never a cycle, but bounded all the same
        if exc is None:
            return False
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
    return False


def _hint(failed: list[NodeResult], names: str) -> str:
    missing_raw = [
        n
        for n in failed
        if n.path.startswith("models/staging/")
        and ("does not exist" in n.message or "doesn't exist" in n.message)
    ]
    if missing_raw:
        return (
            "the raw landing tables are missing: load them first "
            "(`activations generate`, an import, or `make demo`), then rerun"
        )
    if not names:
        return "see the dbt output above"
    return (
        f"fix the model or the raw data it reads, then rerun `activations build {names}`"
    )


def build(**kwargs: Any) -> DbtRun:
    """``dbt build`` (seeds, models, data tests, unit tests), see ``run_dbt``."""
    return run_dbt("build", **kwargs)


def parse(**kwargs: Any) -> DbtRun:
    """``dbt parse``: writes ``target/manifest.json`` (what Dagster loads)."""
    return run_dbt("parse", **kwargs)
