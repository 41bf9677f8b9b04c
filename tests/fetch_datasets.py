"""``make data``: download the full public datasets the tests can use, from
their upstream publications at pinned commits, and check each file's SHA-256
(``dataset_paths.FULL``) before it is put in place.

    python tests/fetch_datasets.py [--dest DIR]   (default: $ACTIVATIONS_DATASETS,
                                                  else .datasets/ in the checkout)

Standard library only. A file already present with the right checksum is kept;
a download that fails, or whose checksum differs, stops with a message and
leaves nothing half-written (exit 1).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dataset_paths import DOWNLOADED, FULL, SETTING  # noqa: E402

TIMEOUT = 60


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(relative: str, url: str, expected: str, dest: Path) -> str:
    target = dest / relative
    if target.exists() and sha256(target) == expected:
        return "present"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as part:
        partial = Path(part.name)
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:  # noqa: S310 (https)
                for block in iter(lambda: answer.read(1 << 20), b""):
                    part.write(block)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise SystemExit(
                f"make data: cannot download {relative} from {url}: {exc}\n"
                "  → this needs a network; or copy the datasets from elsewhere and set "
                f"{SETTING} to their folder"
            ) from None
    got = sha256(partial)
    if got != expected:
        partial.unlink(missing_ok=True)
        raise SystemExit(
            f"make data: {relative} from {url} has SHA-256 {got}, expected {expected}; "
            "nothing was written"
        )
    partial.replace(target)
    return "downloaded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get(SETTING) or str(DOWNLOADED)
    parser.add_argument("--dest", default=default, help=f"folder to fill (default {default})")
    dest = Path(parser.parse_args().dest).expanduser().resolve()
    for relative, (url, expected) in FULL.items():
        print(f"{fetch(relative, url, expected, dest):>10}  {dest / relative}")
    if dest != DOWNLOADED and not os.environ.get(SETTING):
        print(f"set {SETTING}={dest} for the tests to use them")


if __name__ == "__main__":
    main()
