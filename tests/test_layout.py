"""The test tree itself: pytest (rootdir-relative imports, no packages) cannot
collect two test modules with the same file name, and fails the whole run."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_test_module_names_are_unique() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert not [name for name, n in names.items() if n > 1], names
