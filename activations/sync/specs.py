"""Sync declarations: ``syncs/*.yml`` at the project root (format in
``syncs/README.md``), read by the command line and by Dagster alike.

Every error names the file, the line and the field, and says what to do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from activations.contract.records import ProviderSettings
from activations.coupons.spec import COUPON_COLUMNS, CouponSpec
from activations.errors import UserError
from activations.paths import PROJECT_ROOT
from activations.providers import registry
from activations.providers.destinations import destination_problem
from activations.providers.registry import PROVIDERS

Mode = Literal["upsert", "update", "create", "mirror", "events"]
MODES = ("upsert", "update", "create", "mirror", "events")

SYNCS_DIR = PROJECT_ROOT / "syncs"


class Guards(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_removal_share: float = Field(0.2, ge=0, le=1)  # of the confirmed members, per run
    allow_empty: bool = False  # an empty audience may empty a destination that had members
    max_rejects_share: float = Field(0.1, ge=0, le=1)  # of the records sent, before a run fails
    max_attempts: int = Field(3, ge=1)  # runs a rejected record is retried on, then reported


class Retries(BaseModel):
    """How hard to retry one request that failed transiently (429, 5xx, timeouts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attempts: int = Field(6, ge=1, le=50)  # tries per request, the first included
    initial: float = Field(0.5, gt=0)  # first backoff in seconds, doubling
    max_wait: float = Field(30.0, gt=0)  # cap of one backoff
    max_retry_after: float = Field(300.0, gt=0)  # a longer server-asked wait ends the run


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key_env: str | None = None  # name of the variable holding the key (never the key)
    base_url_env: str | None = None  # variable holding the base url (e.g. the sandbox)
    base_url: str | None = None  # a literal base url, when it is no secret
    options: dict[str, Any] = Field(default_factory=dict)  # passed to the provider
    timeout: float = Field(30.0, gt=0)

    @field_validator("api_key_env", "base_url_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        # upper case only: a pasted key (pk_live_..., SG.xxx, abc-us6) is never
        # taken for a variable name, and never echoed in an error
        if value is not None and not re.fullmatch(r"[A-Z_][A-Z0-9_]{0,127}", value):
            raise ValueError(
                "must be the NAME of an environment variable in upper case "
                "(e.g. KLAVIYO_API_KEY), never the key itself"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _plain_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/@]+(/\S*)?", value):
            raise ValueError(
                "must be a plain http(s) URL without a user or password "
                "(put secrets in the variable named by api_key_env)"
            )
        return value

    @field_validator("options")
    @classmethod
    def _known_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        problems = [p for name, v in value.items() if (p := _option_problem(str(name), v))]
        if problems:
            raise ValueError("; ".join(problems))
        return value


#: provider options with a number the delivery relies on: (whole number?, minimum)
NUMERIC_OPTIONS: dict[str, tuple[bool, float]] = {
    "max_records": (True, 1),
    "max_bytes": (True, 1),
    "burst": (True, 1),
    "concurrency": (True, 1),
    "requests_per_second": (False, 0),
    "poll_interval": (False, 0),
    "job_timeout": (False, 0),
}


def _option_problem(name: str, value: Any) -> str | None:
    """Why option ``name`` cannot be ``value``, or ``None``."""
    if name not in NUMERIC_OPTIONS:
        return None
    whole, minimum = NUMERIC_OPTIONS[name]
    if whole:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"{name} must be a whole number of at least {int(minimum)}, got {value!r}"
    elif (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not value > minimum
        or value != value
        or value == float("inf")
    ):
        return f"{name} must be a number of seconds (or per second) above 0, got {value!r}"
    return None


@dataclass(frozen=True)
class SpecSource:
    file: Path
    line: int
    lines: Mapping[tuple[str | int, ...], int] = field(default_factory=dict)

    def where(self, *path: str | int) -> str:
        """``file:line`` of the deepest known part of ``path`` inside this sync."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return f"{self.file}:{self.lines[path[:end]]}"
        return f"{self.file}:{self.line}"


class SyncSpec(BaseModel):
    """One sync: which audience goes where, how, and within which guards."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    audience: str  # a model in schema `audiences`, or schema.table
    provider: str
    destination: str  # list id, segment, event name, url path or file path
    identity: str = "person_id"  # the column that identifies a person
    fields: dict[str, str] = Field(default_factory=dict)  # destination field -> audience column
    mode: Mode = "upsert"
    schedule: str | None = "daily"  # when Dagster sends: hourly, daily, a cron line; None: eager
    description: str | None = None
    guards: Guards = Field(default_factory=Guards)
    credentials: Credentials = Field(default_factory=Credentials)
    retries: Retries = Field(default_factory=Retries)
    coupons: CouponSpec | None = None  # a unique code per person (activations.coupons)

    _source: SpecSource = PrivateAttr(default=SpecSource(Path("<inline>"), 0))

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value not in PROVIDERS:
            known = ", ".join(sorted(PROVIDERS))
            raise ValueError(f"unknown provider {value!r}; use one of: {known}")
        return value

    @field_validator("audience")
    @classmethod
    def _audience_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", value):
            raise ValueError("must be a model name (cart_abandoners) or schema.table")
        return value

    @field_validator("destination")
    @classmethod
    def _destination(cls, value: str, info: ValidationInfo) -> str:
        problem = destination_problem(str(info.data.get("provider", "")), value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("identity")
    @classmethod
    def _identity_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("must be a column name")
        return value

    @field_validator("fields")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        for dest, column in value.items():
            if not re.fullmatch(r"[A-Za-z0-9_$][A-Za-z0-9_ .$-]{0,99}", str(dest)):
                raise ValueError(
                    f"{dest!r} is not a destination field name (letters, digits, _ . - $ "
                    "and spaces)"
                )
            if not isinstance(column, str) or not (
                re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column) or column in COUPON_COLUMNS
            ):
                raise ValueError(f"{dest}: {column!r} is not a column name")
        return value

    @model_validator(mode="after")
    def _coupon_fields(self) -> SyncSpec:
        if self.coupons is None:
            used = [d for d, c in self.fields.items() if c in COUPON_COLUMNS]
            if used:
                raise ValueError(
                    f"fields {', '.join(used)} map a coupon code, but the sync declares no "
                    "`coupons:` block (campaign, source, ...; see syncs/README.md)"
                )
        return self

    @property
    def source(self) -> SpecSource:
        return self._source

    @property
    def audience_schema(self) -> str:
        return self.audience.split(".")[0] if "." in self.audience else "audiences"

    @property
    def audience_table(self) -> str:
        return self.audience.split(".")[-1]

    @property
    def audience_relation(self) -> str:
        return f"{self.audience_schema}.{self.audience_table}"

    def where(self, *path: str | int) -> str:
        return self._source.where(*path)

    def provider_settings(self, env: Mapping[str, str] | None = None) -> ProviderSettings:
        """The provider's connection, with the key read from the environment.
        A missing variable is a ``UserError`` naming the declaration line."""
        env = os.environ if env is None else env
        creds = self.credentials
        api_key = ""
        if creds.api_key_env:
            api_key = env.get(creds.api_key_env, "")
            if not api_key:
                raise UserError(
                    f"{self.where('credentials', 'api_key_env')}: sync {self.name!r}: "
                    f"environment variable {creds.api_key_env} is not set "
                    "(credentials.api_key_env)",
                    hint=f"export {creds.api_key_env}=<your {self.provider} API key> and retry",
                )
        elif registry.entry(self.provider).needs_key:
            raise UserError(
                f"{self.where('credentials')}: sync {self.name!r}: no credentials.api_key_env",
                hint="name the environment variable holding the key, e.g. "
                f"credentials: {{api_key_env: {self.provider.upper()}_API_KEY}}",
            )
        base_url = creds.base_url or registry.entry(self.provider).base_url
        if creds.base_url_env:
            from_env = env.get(creds.base_url_env)
            if from_env:
                base_url = from_env
            elif not base_url:
                raise UserError(
                    f"{self.where('credentials', 'base_url_env')}: sync {self.name!r}: "
                    f"environment variable {creds.base_url_env} is not set "
                    "(credentials.base_url_env)",
                    hint=f"export {creds.base_url_env}=<base url> and retry",
                )
        return registry.settings(
            self.provider, api_key, base_url, options=creds.options, timeout=creds.timeout
        )


# ------------------------------------------------------------------ loading YAML


#: a declaration holds a few hundred values; aliases expanding past this are refused
MAX_VALUES = 20_000
MAX_DEPTH = 40


class _Budget:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.values = 0


def _plain(
    node: yaml.Node,
    path: tuple[str | int, ...],
    lines: dict[tuple, int],
    budget: _Budget | None = None,
) -> Any:
    """The plain value of a composed node, noting the line of every path. Refuses
    what PyYAML lets pass silently: a key given twice in one mapping (the last
    would win), a key that is not a scalar, and aliases that expand into more
    values than any declaration holds (an alias bomb) or into themselves."""
    budget = budget or _Budget(Path("<inline>"))
    budget.values += 1
    here = f"{budget.file}:{node.start_mark.line + 1}"
    if budget.values > MAX_VALUES or len(path) > MAX_DEPTH:
        raise UserError(
            f"{here}: the declarations expand (through YAML aliases) into more than "
            f"{MAX_VALUES:,} values or {MAX_DEPTH} levels; nothing was read",
            hint="write each sync out (or use a few plain aliases); see syncs/README.md",
        )
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise UserError(
                    f"{budget.file}:{key_node.start_mark.line + 1}: a key must be a plain name"
                )
            key = key_node.value
            if key in out:
                first = lines.get((*path, key), "?")
                dotted = ".".join(str(p) for p in (*path, key))
                raise UserError(
                    f"{budget.file}:{key_node.start_mark.line + 1}: `{dotted}` is given twice "
                    f"in the same block (first at line {first}); YAML would silently keep "
                    "only the last",
                    hint="merge the two into one (e.g. one `guards:` block)",
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _plain(value_node, (*path, key), lines, budget)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), lines, budget) for i, item in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise UserError(f"{here}: not a valid value: {getattr(exc, 'problem', exc)}") from None
    finally:
        loader.dispose()


def _text(file: Path) -> str:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read sync declarations {file}: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{file}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); nothing was read",
            hint="save the file as UTF-8",
        ) from None


def _read(file: Path) -> tuple[list[Any], dict[tuple, int]]:
    text = _text(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserError(f"{where}: not valid YAML: {problem}") from None
    if root is None:
        return [], {}
    lines: dict[tuple, int] = {}
    data = _plain(root, (), lines, _Budget(file))
    if isinstance(data, dict) and "syncs" in data:
        if set(data) != {"syncs"} or not isinstance(data["syncs"], list):
            raise UserError(
                f"{file}:{lines[()]}: a declaration file holds `syncs:` with a list of syncs",
                hint="see syncs/README.md for the format",
            )
        items = data["syncs"]
        lines = {k[1:]: v for k, v in lines.items() if k[:1] == ("syncs",)}
    elif isinstance(data, dict):
        items, lines = [data], {(0, *k): v for k, v in lines.items()}
    else:
        raise UserError(
            f"{file}:{lines[()]}: expected a sync (a mapping) or `syncs:` with a list of them",
            hint="see syncs/README.md for the format",
        )
    return items, lines


def _field_error(file: Path, lines: Mapping[tuple, int], index: int, name: str, err: dict) -> str:
    loc = tuple(err["loc"])
    line = None
    for end in range(len(loc), -1, -1):
        line = lines.get((index, *loc[:end]))
        if line is not None:
            break
    where = f"{file}:{line}" if line else str(file)
    field_name = ".".join(str(p) for p in loc) or "(sync)"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field (check the spelling; see syncs/README.md)"
    elif err["type"] == "literal_error" and loc and loc[-1] == "mode":
        message = f"bad mode {err.get('input')!r}: use one of {', '.join(MODES)}"
    elif err["type"] == "missing":
        message = "required field is missing"
    return f"{where}: sync {name!r}: field `{field_name}`: {message}"


def parse_file(file: Path) -> list[SyncSpec]:
    items, lines = _read(file)
    specs: list[SyncSpec] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"{file}:{lines.get((index,), '?')}: a sync must be a mapping")
            continue
        name = str(item.get("name", f"#{index + 1}"))
        try:
            spec = SyncSpec.model_validate(item)
        except ValidationError as exc:
            problems.extend(_field_error(file, lines, index, name, e) for e in exc.errors())
            continue
        sub = {k[1:]: v for k, v in lines.items() if k[:1] == (index,)}
        spec._source = SpecSource(file=file, line=lines.get((index,), 1), lines=sub)
        specs.append(spec)
    if problems:
        raise UserError(
            "\n".join(problems), hint="fix the declaration; the format is in syncs/README.md"
        )
    return specs


def declaration_files(path: Path | str | None = None) -> list[Path]:
    default = Path(os.environ.get("ACTIVATIONS_SYNCS", SYNCS_DIR))
    target = Path(path) if path is not None else default
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise UserError(
            f"no sync declarations at {target}",
            hint="create syncs/<name>.yml (see syncs/README.md) or set ACTIVATIONS_SYNCS",
        )
    return sorted(p for p in target.iterdir() if p.suffix in (".yml", ".yaml"))


def load_syncs(path: Path | str | None = None) -> list[SyncSpec]:
    """Every sync declared in ``path`` (a file or a folder; default ``syncs/``,
    or ``$ACTIVATIONS_SYNCS``), validated; names are unique across files."""
    specs: list[SyncSpec] = []
    seen: dict[str, SyncSpec] = {}
    for file in declaration_files(path):
        for spec in parse_file(file):
            if spec.name in seen:
                raise UserError(
                    f"{spec.where('name')}: sync name {spec.name!r} is already declared at "
                    f"{seen[spec.name].where('name')}",
                    hint="give each sync its own name",
                )
            seen[spec.name] = spec
            specs.append(spec)
    return specs


def get_sync(name: str, path: Path | str | None = None) -> SyncSpec:
    specs = load_syncs(path)
    for spec in specs:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in specs) or "(none)"
    raise UserError(f"no sync named {name!r}", hint=f"declared syncs: {known}")
