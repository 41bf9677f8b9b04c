"""`make data` (tests/fetch_datasets.py), offline: file:// URLs stand in for the
upstream publications; a checksum that differs leaves nothing behind."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from dataset_paths import FULL, datasets_root
from fetch_datasets import fetch


def test_fetch_checks_the_checksum_and_keeps_a_good_copy(tmp_path: Path) -> None:
    source = tmp_path / "upstream.txt"
    source.write_bytes(b"customer_id date\n 00001 19970101 1 11.77\n")
    good = hashlib.sha256(source.read_bytes()).hexdigest()
    dest = tmp_path / "datasets"
    assert fetch("cdnow/x.txt", source.as_uri(), good, dest) == "downloaded"
    assert (dest / "cdnow" / "x.txt").read_bytes() == source.read_bytes()
    assert fetch("cdnow/x.txt", source.as_uri(), good, dest) == "present"

    with pytest.raises(SystemExit, match="expected 0000"):
        fetch("cdnow/y.txt", source.as_uri(), "0" * 64, dest)
    assert sorted(p.name for p in (dest / "cdnow").iterdir()) == ["x.txt"]
    with pytest.raises(SystemExit, match="this needs a network"):
        fetch("cdnow/z.txt", (tmp_path / "absent").as_uri(), good, dest)


def test_every_full_file_is_pinned_and_the_setting_wins(monkeypatch, tmp_path: Path) -> None:
    for url, digest in FULL.values():
        assert url.startswith("https://") and len(digest) == 64
        assert "/main/" not in url and "/master/" not in url  # a commit, not a branch
    monkeypatch.setenv("ACTIVATIONS_DATASETS", str(tmp_path))
    assert datasets_root() == tmp_path.resolve()
