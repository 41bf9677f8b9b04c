"""Sync declarations: the examples in syncs/ load, and every mistake is one
clear error naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from activations.errors import UserError
from activations.sync.engine import plan
from activations.sync.specs import load_syncs, parse_file
from tests.activations.sync.conftest import make_audience, people, write_spec

GOOD = """syncs:
  - name: carts_hook
    audience: carts
    provider: webhook
    destination: /hooks/carts
    mode: mirror
    fields:
      value: cart_value
    credentials: {api_key_env: HOOK_SECRET, base_url_env: HOOK_URL}
"""


def error_of(tmp_path: Path, text: str) -> str:
    path = write_spec(tmp_path, text)
    with pytest.raises(UserError) as info:
        parse_file(path)
    return str(info.value)


def test_the_example_declarations_load() -> None:
    specs = load_syncs()
    providers = {s.provider for s in specs}
    assert {"webhook", "file", "klaviyo", "mailchimp"} <= providers
    assert len({s.name for s in specs}) == len(specs)
    assert all(s.where("audience").startswith(str(s.source.file)) for s in specs)


def test_single_mapping_file_and_defaults(tmp_path: Path) -> None:
    path = write_spec(
        tmp_path,
        "name: one\naudience: core.people\nprovider: file\ndestination: out\n",
    )
    (spec,) = parse_file(path)
    assert (spec.mode, spec.identity, spec.audience_relation) == (
        "upsert",
        "person_id",
        "core.people",
    )
    assert spec.guards.max_removal_share == 0.2 and spec.guards.max_attempts == 3


def test_bad_mode_names_file_line_and_field(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("mode: mirror", "mode: mirrror"))
    assert f"{tmp_path / 'syncs.yml'}:6" in message
    assert "`mode`" in message and "mirrror" in message and "upsert" in message


def test_unknown_field_and_unknown_provider(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, GOOD.replace("    mode: mirror\n", "    mode: mirror\n    shedule: daily\n")
    )
    assert ":7:" in message and "`shedule`" in message and "unknown field" in message
    message = error_of(tmp_path, GOOD.replace("provider: webhook", "provider: klavio"))
    assert ":4:" in message and "unknown provider 'klavio'" in message


def test_missing_field_and_bad_guard(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace("    destination: /hooks/carts\n", ""))
    assert ":2:" in message and "`destination`" in message and "missing" in message
    message = error_of(
        tmp_path,
        GOOD.replace(
            "    mode: mirror\n", "    mode: mirror\n    guards: {max_removal_share: 3}\n"
        ),
    )
    assert ":7:" in message and "guards.max_removal_share" in message


def test_a_key_instead_of_a_variable_name_is_refused(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, GOOD.replace("api_key_env: HOOK_SECRET", "api_key_env: pk_live-123")
    )
    assert "credentials.api_key_env" in message and "NAME of an environment variable" in message


def test_invalid_yaml_and_duplicate_names(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD + "  - name: [oops\n")
    assert "not valid YAML" in message and "syncs.yml:" in message
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "a.yml").write_text(GOOD)
    (folder / "b.yml").write_text(GOOD)
    with pytest.raises(UserError, match="already declared at .*a.yml:2"):
        load_syncs(folder)


def test_unknown_audience_and_unknown_column_against_the_warehouse(db, tmp_path: Path) -> None:
    make_audience(db, people(3))
    spec = parse_file(write_spec(tmp_path, GOOD.replace("audience: carts", "audience: kart")))[0]
    with pytest.raises(UserError, match=r"syncs.yml:3: .*audiences.kart does not exist") as info:
        plan(spec, db)
    assert "carts" in (info.value.hint or "")
    spec = parse_file(write_spec(tmp_path, GOOD.replace("value: cart_value", "value: cart_valu")))[
        0
    ]
    with pytest.raises(
        UserError, match=r"syncs.yml:8: .*`fields.value`: unknown column 'cart_valu'"
    ):
        plan(spec, db)


def test_missing_secret_names_the_variable(tmp_path: Path) -> None:
    spec = parse_file(write_spec(tmp_path, GOOD))[0]
    with pytest.raises(UserError, match=r"syncs.yml:9: .*HOOK_SECRET is not set"):
        spec.provider_settings({})
    settings = spec.provider_settings({"HOOK_SECRET": "s3cret-value", "HOOK_URL": "http://x"})
    assert "s3cret-value" not in repr(settings)
