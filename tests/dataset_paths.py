"""Where the tests find their datasets.

- Small fixtures, in the repository: ``tests/fixtures/`` (``FIXTURES``), a few
  hundred lines of CDNOW and of Online Retail (sources and licenses in
  ``tests/fixtures/README.md``). Tests that need only a few lines use these.
- The full public datasets, outside it, found through one setting:
  ``ACTIVATIONS_DATASETS``, a folder laid out as ``cdnow/CDNOW_master.txt``,
  ``uci-online-retail/online_retail.parquet``, ... When unset: ``.datasets/`` in
  the checkout once ``make data`` has filled it, else ``../shared/datasets``
  beside the checkout. A test that needs a full file calls ``require`` and is
  skipped, naming the file and how to get it, when it is absent.

``FULL`` lists each full file with where ``make data`` downloads it from and its
SHA-256 (``tests/fetch_datasets.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CHECKOUT = TESTS.parent
FIXTURES = TESTS / "fixtures"
SETTING = "ACTIVATIONS_DATASETS"
DOWNLOADED = CHECKOUT / ".datasets"  # where `make data` puts them by default

_LIFETIMES = (
    "https://raw.githubusercontent.com/CamDavidsonPilon/lifetimes/"
    "4f2833f4518621343bb6983eb3e540c11f66ec6a/lifetimes/datasets/"
)
_ONLINE_RETAIL = (
    "https://raw.githubusercontent.com/WhiteHorse101/OnlineEcommerce/"
    "a41b2cc02dd3c0f81b8333bf9687c825f0d42b0f/Data/Raw/online_retail.parquet"
)

#: relative path -> (URL at a pinned commit, SHA-256 of the file)
FULL: dict[str, tuple[str, str]] = {
    "cdnow/CDNOW_master.txt": (
        _LIFETIMES + "CDNOW_master.txt",
        "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
    ),
    "cdnow/CDNOW_sample.txt": (
        _LIFETIMES + "CDNOW_sample.txt",
        "6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a",
    ),
    "cdnow/cdnow_customers_summary.csv": (
        _LIFETIMES + "cdnow_customers_summary.csv",
        "09d92ca80daaabe8be0f997d4c539f9c9606106baa5b199081fe01cbce5fa9f6",
    ),
    "uci-online-retail/online_retail.parquet": (
        _ONLINE_RETAIL,
        "399de155a1c07e4bc89d8ef4f75d619c70a6b4ed39cc76ea54d56c2c939fb72b",
    ),
}


def datasets_root() -> Path:
    """The folder the full datasets are read from (``ACTIVATIONS_DATASETS``)."""
    configured = os.environ.get(SETTING, "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    if DOWNLOADED.is_dir() and any(DOWNLOADED.iterdir()):
        return DOWNLOADED
    return CHECKOUT.parent / "shared" / "datasets"


def dataset(relative: str) -> Path:
    """A full dataset file's path (it may be absent: ``require`` it in the test)."""
    return datasets_root() / relative


def fixture(relative: str) -> Path:
    """A small fixture file shipped in ``tests/fixtures/``."""
    return FIXTURES / relative


def require(*paths: Path) -> None:
    """Skip the calling test, with a message saying how to get them, unless every
    one of ``paths`` exists."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        import pytest

        names = ", ".join(str(p) for p in missing)
        pytest.skip(
            f"full dataset not on this machine: {names} "
            f"(set {SETTING} to a folder holding it, or run `make data`)"
        )
