"""Headless Chromium opens the rendered page from a file (no network) and finds
the charts and the headline numbers; a screenshot at laptop size is taken."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="headless Chromium is not installed at /usr/bin/chromium "
        "(apt-get install -y chromium) - screenshot test skipped",
    ),
]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_chromium_renders_charts_and_headline_numbers(rendered_dashboard, page, tmp_path):
    url = rendered_dashboard.resolve().as_uri()
    dom = chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert html.count("<svg") >= 6, "the charts are not in the rendered DOM"
    for key in ("shop_revenue", "email_revenue", "emails_sent", "open_rate", "subscribers"):
        assert f'id="kpi-{key}"' in html
        assert f'data-value="{page.ids[f"kpi-{key}"]["data-value"]}"' in html
    assert 'id="period"' in html and 'id="freshness"' in html

    shot = tmp_path / "dashboard.png"
    done = chromium(
        f"--screenshot={shot}", "--window-size=1366,900", url, profile=tmp_path / "profile-shot"
    )
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    assert png_size(shot) == (1366, 900)
    assert shot.stat().st_size > 30_000, "the screenshot is (nearly) blank"
