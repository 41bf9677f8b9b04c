"""The dashboard rendered once from the built warehouse, and a parser for the
numbers it shows (data-value attributes on headline numbers and table cells)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from activations.dashboards import render_dashboard


@dataclass
class Page:
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    # table id -> row data-key -> cell data-field -> data-value
    tables: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    external: list[str] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._table: str | None = None
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.page.tags[tag] = self.page.tags.get(tag, 0) + 1
        if "id" in a:
            self.page.ids[a["id"]] = a
        if tag == "table" and "id" in a:
            self._table = a["id"]
            self.page.tables[self._table] = {}
        elif tag == "tr" and self._table and "data-key" in a:
            self._row = a["data-key"]
            self.page.tables[self._table][self._row] = {}
        elif tag == "td" and self._table and self._row is not None and "data-value" in a:
            key = a.get("data-field", "value")
            self.page.tables[self._table][self._row][key] = a["data-value"]
        for attr in ("src", "href"):
            if attr in a and a[attr].startswith(("http:", "https:", "//")):
                self.page.external.append(a[attr])
        if tag in ("script", "link", "iframe", "img"):
            self.page.external.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None


def parse_page(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    return parser.page


@pytest.fixture(scope="session")
def rendered_dashboard(built_warehouse, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dashboard") / "dashboard.html"
    return render_dashboard(built_warehouse.path, out)


@pytest.fixture(scope="session")
def page(rendered_dashboard) -> Page:
    return parse_page(rendered_dashboard.read_text(encoding="utf-8"))
