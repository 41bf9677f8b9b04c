"""Model descriptions say what the SQL does: where a YAML description states a
formula (a scoring, rounding or ranking function with its arguments), the
model's SQL, with the macros it calls and the models it reads, computes that
formula.

Plain file reading, no dbt run: a formula is compared token by token (names,
numbers and operators; ``x`` in prose is ``*``), and must appear in the SQL in
that order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from activations.paths import DBT_PROJECT_DIR

# functions whose use in a description is a claim about the computation
FORMULA_FUNCTIONS = (
    "percent_rank", "cume_dist", "ntile", "rank", "dense_rank", "row_number", "ceil",
    "ceiling", "floor", "round", "least", "greatest", "percentile_cont", "median",
)  # fmt: skip
FUNCTION_CALL = re.compile(r"\b(" + "|".join(FORMULA_FUNCTIONS) + r")\s*\(")
TOKEN = re.compile(r"[a-z_][a-z_0-9]*|\d+(?:\.\d+)?|[-+*/]")
MACRO_CALL = re.compile(r"\b([a-z_][a-z_0-9]*)\s*\(")


def _macros() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in (DBT_PROJECT_DIR / "macros").glob("*.sql"):
        text = path.read_text()
        for match in re.finditer(r"\{%-?\s*macro\s+([a-z_0-9]+)\s*\(", text):
            end = text.find("endmacro", match.end())
            found[match.group(1)] = text[match.start() : end]
    return found


MACROS = _macros()
SQL_FILES = {p.stem: p for p in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
REF = re.compile(r"ref\(\s*'([a-z_0-9]+)'\s*\)")


def _with_macros(sql: str) -> str:
    """The SQL plus every project macro it calls and every model it reads, transitively."""
    seen: set[str] = set()
    todo = [sql]
    parts = [sql]
    while todo:
        text = todo.pop()
        for name in MACRO_CALL.findall(text):
            if name in MACROS and name not in seen:
                seen.add(name)
                parts.append(MACROS[name])
                todo.append(MACROS[name])
        for name in REF.findall(text):
            if name in SQL_FILES and f"model:{name}" not in seen:
                seen.add(f"model:{name}")
                parts.append(SQL_FILES[name].read_text())
                todo.append(parts[-1])
    return "\n".join(parts)


def _formulas(text: str) -> list[str]:
    """Each stated formula: a listed function with its (balanced) arguments,
    extended left over a leading `<number or name> <operator>` chain."""
    formulas = []
    for match in FUNCTION_CALL.finditer(text):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        start = match.start()
        while (prefix := re.search(r"([\w.]+\s*[-+*/x]\s*)$", text[:start])) and (
            prefix.group(1).strip()[0].isdigit()
        ):
            start = prefix.start()
        formulas.append(text[start : end + 1])
    # a formula nested in another one is checked as part of the outer one
    return [f for f in formulas if not any(f != g and f in g for g in formulas)]


def _tokens(text: str, prose: bool = False) -> list[str]:
    text = text.lower()
    if prose:
        text = re.sub(r"(?<=[\w)])\s+x\s+(?=[\w(])", " * ", text)
    return TOKEN.findall(text)


def _in_order(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(token in it for token in needle)


def _described_models() -> list[tuple[str, str, str]]:
    """(model, description text of the model and its columns, model SQL file)."""
    out = []
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("_*__models.yml")):
        for model in yaml.safe_load(path.read_text()).get("models") or []:
            texts = [model.get("description") or ""]
            texts += [c.get("description") or "" for c in model.get("columns") or []]
            out.append((model["name"], "\n".join(texts), str(SQL_FILES[model["name"]])))
    return out


MODELS = _described_models()
WITH_FORMULAS = [(m, d, s) for m, d, s in MODELS if _formulas(d)]


def test_the_rfm_descriptions_state_a_formula() -> None:
    """The check below has something to check: the RFM score formula is stated."""
    names = {m for m, _, _ in WITH_FORMULAS}
    assert {"rfm_segments", "int_rfm_segments_candidates"} <= names


@pytest.mark.parametrize(("model", "description", "sql_file"), WITH_FORMULAS)
def test_a_formula_in_a_description_is_the_one_the_sql_computes(
    model: str, description: str, sql_file: str
) -> None:
    sql = _tokens(_with_macros(Path(sql_file).read_text()))
    for formula in _formulas(description):
        assert _in_order(_tokens(formula, prose=True), sql), (
            f"{model}: the description states {formula!r}, which {sql_file} "
            "(with the macros it calls) does not compute"
        )


def test_a_wrong_formula_is_caught() -> None:
    sql = _tokens(_with_macros("select {{ rfm_score('x') }}"))
    assert _in_order(_tokens("least(5, 1 + floor(5 x percent_rank))", prose=True), sql)
    assert not _in_order(_tokens("ceil(5 x cume_dist)", prose=True), sql)
