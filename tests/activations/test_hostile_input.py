"""Hostile input, as a user meets it on the command line: every case prints
one clear message naming the file, line or field (never a traceback), exits
with the documented code, and leaves the warehouse and the destination as they
were. The cases and their tests are listed in docs/reliability.md.

The commands run in-process through ``activations.cli.main`` (the same entry
point as the installed script) against a real DuckDB file and a real file
destination that a first run has filled."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from activations.cli import main
from tests.activations.sync.conftest import make_audience, people, table_digest

SYNC = "carts_files"
BASE = """\
syncs:
  - name: carts_files
    audience: carts
    provider: file
    destination: out/carts
    mode: mirror
    fields:
      value: cart_value
    guards:
      max_removal_share: 0.5
    credentials: {options: {format: csv}}
"""


def cli(monkeypatch: pytest.MonkeyPatch, capsys, *args: str) -> tuple[int, str]:
    """Run ``activations ARGS`` in-process: (exit code, stdout + stderr)."""
    monkeypatch.setattr(sys, "argv", ["activations", *args])
    code = 0
    try:
        main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def snapshot(wh: Path, out: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Every table of the warehouse and every file of the destination, hashed."""
    con = duckdb.connect(str(wh), read_only=True)
    try:
        tables = table_digest(con)
    finally:
        con.close()
    files = {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }
    return tables, files


class Project:
    def __init__(self, root: Path, monkeypatch, capsys) -> None:
        self.root, self.monkeypatch, self.capsys = root, monkeypatch, capsys
        self.wh = root / "wh.duckdb"
        self.out = root / "out"

    def spec(self, text: str | bytes, name: str = "bad.yml") -> Path:
        path = self.root / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    def run(self, *args: str) -> tuple[int, str]:
        return cli(self.monkeypatch, self.capsys, *args)

    def sync(self, spec: Path, *extra: str, command: str = "run") -> tuple[int, str]:
        return self.run(command, SYNC, "--syncs", str(spec), "--warehouse", str(self.wh), *extra)

    def audience(self, *statements: str) -> None:
        con = duckdb.connect(str(self.wh))
        try:
            for sql in statements:
                con.execute(sql)
        finally:
            con.close()


@pytest.fixture()
def project(tmp_path: Path, monkeypatch, capsys) -> Project:
    """A warehouse with an audience of 20 and a file sync that delivered it once."""
    monkeypatch.chdir(tmp_path)  # file destinations live inside the project
    p = Project(tmp_path, monkeypatch, capsys)
    con = duckdb.connect(str(p.wh))
    make_audience(con, people(20))
    con.close()
    code, out = p.sync(p.spec(BASE, "good.yml"))
    assert code == 0, out
    assert (p.out / "carts" / "manifest.json").exists()
    return p


def unchanged(project: Project, before) -> None:
    assert snapshot(project.wh, project.out) == before


def clean(out: str) -> None:
    assert "Traceback" not in out and out.count("error:") == 1, out


# ------------------------------------------------------------------ declarations

DECLARATIONS = {
    # case: (replace this, with this, expected in the message)
    "sql_in_sync_name": (
        "name: carts_files",
        'name: "carts_files\'; drop table audiences.carts; --"',
        [":2:", "field `name`"],
    ),
    "sql_in_audience": (
        "audience: carts",
        'audience: "carts; drop table audiences.carts"',
        [":3:", "field `audience`", "model name"],
    ),
    "sql_in_field_name": (
        "value: cart_value",
        '"v\'); drop table audiences.carts; --": cart_value',
        [":7:", "field `fields`", "not a destination field name"],
    ),
    "sql_in_column_name": (
        "value: cart_value",
        'value: "cart_value; drop table audiences.carts"',
        [":7:", "field `fields`", "not a column name"],
    ),
    "path_traversal_in_file_destination": (
        "destination: out/carts",
        "destination: ../../etc/cron.d",
        [":5:", "field `destination`", "climbs out of the project"],
    ),
    "absolute_file_destination": (
        "destination: out/carts",
        "destination: /tmp/elsewhere",
        [":5:", "field `destination`", "not a folder inside the project"],
    ),
    "empty_destination": (
        "destination: out/carts",
        'destination: ""',
        [":5:", "field `destination`", "is empty"],
    ),
    "destination_with_a_line_break": (
        "destination: out/carts",
        'destination: "out/carts\\nX-Injected: 1"',
        [":5:", "field `destination`", "line break"],
    ),
    "empty_klaviyo_list_name": (
        "provider: file\n    destination: out/carts",
        'provider: klaviyo\n    destination: "  "',
        [":5:", "field `destination`", "is empty"],
    ),
    "customerio_destination_with_dot_dot": (
        "provider: file\n    destination: out/carts",
        "provider: customerio\n    destination: 7/../../v1/customers",
        [":5:", "field `destination`", "'..'"],
    ),
    "inline_secret_instead_of_a_variable_name": (
        "credentials: {options: {format: csv}}",
        "credentials: {api_key_env: pk_live_4f9a8b7c6d5e4f3a2b1c}",
        [":11:", "credentials.api_key_env", "NAME of an environment variable"],
    ),
    "password_in_base_url": (
        "credentials: {options: {format: csv}}",
        'credentials: {base_url: "https://me:hunter2-secret@api.example.com"}',
        [":11:", "credentials.base_url", "without a user or password"],
    ),
    "duplicate_guards_block": (
        "      max_removal_share: 0.5\n",
        "      max_removal_share: 0.5\n    guards: {max_attempts: 2}\n",
        [":11:", "`syncs.0.guards` is given twice", "first at line 9"],
    ),
    "zero_max_records": (
        "{options: {format: csv}}",
        "{options: {format: csv, max_records: 0}}",
        [":11:", "credentials.options", "max_records must be a whole number of at least 1"],
    ),
    "zero_concurrency": (
        "{options: {format: csv}}",
        "{options: {concurrency: 0}}",
        [":11:", "concurrency must be a whole number of at least 1"],
    ),
    "poll_interval_fast": (
        "{options: {format: csv}}",
        '{options: {poll_interval: "fast"}}',
        [":11:", "poll_interval must be a number", "'fast'"],
    ),
}


@pytest.mark.parametrize("case", sorted(DECLARATIONS))
def test_a_hostile_declaration_is_one_message_exit_2_and_changes_nothing(
    project: Project, case: str
) -> None:
    old, new, expected = DECLARATIONS[case]
    assert old in BASE
    spec = project.spec(BASE.replace(old, new))
    before = snapshot(project.wh, project.out)
    code, out = project.sync(spec)
    assert code == 2, out
    clean(out)
    assert str(spec) in out
    for part in expected:
        assert part in out, (part, out)
    assert "pk_live_4f9a8b7c6d5e4f3a2b1c" not in out and "hunter2-secret" not in out
    unchanged(project, before)


def test_a_non_utf8_declaration_names_the_line(project: Project) -> None:
    spec = project.spec(BASE.encode() + b"    description: caf\xe9 cr\xe8me\n")
    before = snapshot(project.wh, project.out)
    code, out = project.sync(spec)
    assert code == 2 and f"{spec}:12: not UTF-8 text (byte 0xe9)" in out
    clean(out)
    unchanged(project, before)


def test_a_yaml_alias_bomb_is_refused_quickly(project: Project) -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        bomb += f"{name}: &{name} [{','.join(['*' + prev] * 9)}]\n"
    spec = project.spec(BASE + bomb)
    before = snapshot(project.wh, project.out)
    started = time.perf_counter()
    code, out = project.sync(spec)
    assert time.perf_counter() - started < 10
    assert code == 2 and "YAML aliases" in out and "nothing was read" in out
    clean(out)
    unchanged(project, before)


def test_sql_in_a_list_name_is_data_never_sql(project: Project) -> None:
    """A destination name is free text for a list (``Sam's list``): it goes to
    the provider and into the run record as a bound value, never into SQL."""
    spec = project.spec(BASE.replace("destination: out/carts", 'destination: "out/x\'; drop"'))
    code, out = project.sync(spec, "--dry-run")
    assert code == 0, out
    con = duckdb.connect(str(project.wh), read_only=True)
    try:
        assert con.execute("select count(*) from audiences.carts").fetchone()[0] == 20
    finally:
        con.close()


# ------------------------------------------------------------------ audiences


def test_a_dropped_column_names_the_field_and_changes_nothing(project: Project) -> None:
    project.audience("alter table audiences.carts drop column cart_value")
    before = snapshot(project.wh, project.out)
    code, out = project.sync(project.root / "good.yml")
    assert code == 2
    assert "good.yml:8:" in out and "`fields.value`: unknown column 'cart_value'" in out
    clean(out)
    unchanged(project, before)


def test_is_sendable_of_another_type_is_refused(project: Project) -> None:
    project.audience("alter table audiences.carts alter is_sendable type varchar")
    before = snapshot(project.wh, project.out)
    code, out = project.sync(project.root / "good.yml")
    assert code == 2 and "good.yml:3:" in out and "is_sendable is VARCHAR, not boolean" in out
    clean(out)
    unchanged(project, before)


def test_a_changed_column_type_with_the_same_values_resends_nothing(project: Project) -> None:
    project.audience("alter table audiences.carts alter cart_value type varchar")
    code, out = project.sync(project.root / "good.yml")
    assert code == 0 and "sent 0," in out, out


def test_duplicate_keys_are_skipped_with_the_reason(project: Project) -> None:
    project.audience(
        "insert into audiences.carts select person_id, 'other@example.com', entered_at, "
        "audience, is_sendable, suppression_reason, is_control, 999, cart_items "
        "from audiences.carts where person_id = 'p00003'"
    )
    code, out = project.sync(project.root / "good.yml", "--dry-run")
    assert code == 0 and "skipped 1: duplicate identity" in out, out


def test_null_and_invalid_emails_are_never_sent_and_kept_as_rejects(project: Project) -> None:
    project.audience(
        "update audiences.carts set email = null where person_id = 'p00001'",
        "update audiences.carts set email = 'not an email' where person_id = 'p00002'",
        "update audiences.carts set email = 'x@y.z'' or 1=1 --' where person_id = 'p00004'",
        "update audiences.carts set cart_value = cart_value + 1",
    )
    code, out = project.sync(project.root / "good.yml")
    assert code == 0 and "invalid 3" in out, out
    con = duckdb.connect(str(project.wh), read_only=True)
    try:
        rejects = con.execute(
            "select record_key, reason from activations.sync_rejects order by 1"
        ).fetchall()
    finally:
        con.close()
    assert rejects == [(k, "invalid email address") for k in ("p00001", "p00002", "p00004")]
    written = "".join(p.read_text() for p in (project.out / "carts").glob("*-upsert-*.csv"))
    assert "not an email" not in written and "or 1=1" not in written


# ------------------------------------------------------------------ the warehouse


@pytest.fixture()
def holder(project: Project):
    """Another process holding the warehouse file open for writing."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys, time
                con = duckdb.connect({str(project.wh)!r})
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_locked_warehouse_exits_5(project: Project, holder) -> None:
    code, out = project.sync(project.root / "good.yml")
    assert code == 5 and "is locked by another process" in out and "wh.duckdb" in out
    clean(out)


def test_syncs_while_the_warehouse_is_locked_says_unknown_not_never(
    project: Project, holder
) -> None:
    code, out = project.run(
        "syncs", "--syncs", str(project.root / "good.yml"), "--warehouse", str(project.wh)
    )
    assert code == 5 and "unknown" in out and "never" not in out
    assert "is locked by another process" in out


def test_a_file_that_is_no_warehouse_is_refused(project: Project) -> None:
    bad = project.root / "garbage.duckdb"
    bad.write_bytes(os.urandom(20_000))
    before = bad.read_bytes()
    code, out = project.run(
        "run", SYNC, "--syncs", str(project.root / "good.yml"), "--warehouse", str(bad)
    )
    assert code == 2 and "not a valid DuckDB database file" in out and "restore it" in out
    clean(out)
    assert bad.read_bytes() == before


def test_a_corrupted_warehouse_block_is_one_message(project: Project) -> None:
    with open(project.wh, "r+b") as fh:  # the catalog block after the header
        fh.seek(12_288)
        fh.write(b"\x00\xff" * 2048)
    before = project.wh.read_bytes()
    code, out = project.sync(project.root / "good.yml")
    assert code == 2 and "Corrupt database file" in out and "restore it" in out
    clean(out)
    assert project.wh.read_bytes() == before


def test_a_bad_postgres_url_never_prints_the_password(project: Project) -> None:
    code, out = project.run(
        "syncs",
        "--syncs",
        str(project.root / "good.yml"),
        "--warehouse",
        "postgresql://user:S3cretPassw0rd@[::1",
    )
    assert code == 2 and "cannot connect to the PostgreSQL warehouse" in out
    assert "S3cretPassw0rd" not in out
    clean(out)


def test_runs_limit_below_one_is_a_usage_error(project: Project) -> None:
    code, out = project.run(
        "runs", SYNC, "--syncs", str(project.root / "good.yml"), "--limit", "-1"
    )
    assert code == 2 and "--limit" in out and "Traceback" not in out


# ------------------------------------------------------------------ dbt and Ctrl-C


@pytest.fixture()
def no_dbt(monkeypatch):
    """dbt must not run: the input is refused before."""
    from dbt.cli.main import dbtRunner

    def refuse(self, args, **kwargs):
        raise AssertionError(f"dbt ran with {args}")

    monkeypatch.setattr(dbtRunner, "invoke", refuse)


@pytest.mark.parametrize("option", ["--select", "--exclude"])
def test_a_selection_that_is_no_selection_is_refused_before_dbt(
    project: Project, monkeypatch, no_dbt, option: str
) -> None:
    wh = project.root / "never.duckdb"
    monkeypatch.setenv("DUCKDB_PATH", str(wh))
    code, out = project.run("build", option, "customers; rm -rf /")
    assert code == 2 and f"{option} 'customers; rm -rf /'" in out
    assert "';' is not part of dbt's selection syntax" in out
    clean(out)
    assert not wh.exists()


def test_an_interrupted_dbt_build_exits_130_and_says_what_is_left(
    project: Project, monkeypatch
) -> None:
    from dbt.cli.main import dbtRunner, dbtRunnerResult

    def interrupted(self, args, **kwargs):
        return dbtRunnerResult(success=False, exception=KeyboardInterrupt())

    monkeypatch.setattr(dbtRunner, "invoke", interrupted)
    monkeypatch.setenv("DUCKDB_PATH", str(project.wh))
    before = snapshot(project.wh, project.out)
    code, out = project.run("build", "--select", "customers")
    assert code == 130 and "dbt build interrupted (Ctrl-C)" in out
    assert "no table is half-written" in out
    clean(out)
    unchanged(project, before)


def test_ctrl_c_in_any_command_is_one_line_and_exit_130(project: Project, monkeypatch) -> None:
    from activations.sync import commands

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "load_syncs", interrupt)
    code, out = project.run("syncs", "--syncs", str(project.root / "good.yml"))
    assert code == 130 and "interrupted (Ctrl-C): `activations syncs` stopped" in out
    clean(out)


# ------------------------------------------------------------------ connectors called directly


def test_connectors_called_directly_never_leave_their_destination(tmp_path, monkeypatch) -> None:
    """Declarations are checked when read; a connector called with a hostile
    destination anyway (a script, a test) refuses or quotes it."""
    from activations.contract.records import ProviderSettings, Record
    from activations.errors import UserError
    from activations.providers.customerio.connector import CustomerIoProvider
    from activations.providers.files.connector import FileProvider

    monkeypatch.chdir(tmp_path)
    record = Record(key="p1", email="p1@example.com", fields={}, hash="h")
    files = FileProvider(ProviderSettings(base_url="", api_key=""))
    for hostile in ("", "../outside", "/tmp/outside"):
        with pytest.raises(UserError, match="file destination"):
            files.upsert(hostile, [record])
    assert not (tmp_path.parent / "outside").exists()

    seen: list[str] = []
    cio = CustomerIoProvider(ProviderSettings(base_url="http://127.0.0.1:9", api_key="site:key1"))
    monkeypatch.setattr(cio.http, "request", lambda method, path, **kw: seen.append(path))
    with pytest.raises(UserError, match="no segment id"):
        cio.remove("..", [record])
    cio.remove("7/../../v1/customers", [record])
    assert seen == ["/api/v1/segments/7%2F..%2F..%2Fv1%2Fcustomers/remove_customers"]
    cio.close()
