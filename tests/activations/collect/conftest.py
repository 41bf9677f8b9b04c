"""A collector on a free port of 127.0.0.1, in a thread, landing in a fresh DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from collect_helpers import WRITE_KEY, Collector

from activations.collect.server import collector_in_thread


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    path = tmp_path / "collected.duckdb"
    with collector_in_thread(str(path), write_key=WRITE_KEY, max_batch_wait=0.02) as server:
        c = Collector(server, path)
        try:
            yield c
        finally:
            c.http.close()
