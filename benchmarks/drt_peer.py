"""drt-core (the open-source reverse-ETL peer, PyPI) on the same audience and the
same local sink as our engine, for bench_sync.py.

drt-core is never a project dependency: ``ensure_drt()`` installs it into a
throwaway virtual environment under ``benchmarks/results/`` (git-ignored) the
first time, with pip, and returns None with the reason when it cannot. It is set
up as ``docs/peers.md`` measured it in batch mode: a DuckDB source, a
``rest_api`` destination posting ``max_records_per_request`` records per request
(1,000, the sink's ceiling) in the sink's payload shape, ``mode: full`` (drt has
no change detection for HTTP destinations without an updated_at cursor, so its
resync after a 1% change sends every row again). The sink cannot check a
signature drt cannot make: the bench starts it with ``--accept-unsigned /drt``.
Each sync is timed as the ``drt run`` process, start to exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

VENV = Path(__file__).resolve().parent / "results" / "drt-venv"
PREFIX = "/drt"
BATCH_TEMPLATE = (
    '{"destination": "' + PREFIX + '/carts", "operation": "upsert", "records": ['
    "{% for row in rows %}"
    '{"key": {{ row.person_id | tojson }}, "email": {{ row.email | tojson }}, '
    '"fields": {"value": {{ row.cart_value | tojson }}, "items": {{ row.cart_items | tojson }}}}'
    "{% if not loop.last %},{% endif %}{% endfor %}]}"
)


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_drt() -> tuple[Path | None, str]:
    """The ``drt`` executable in the throwaway venv (installed on first use), or
    None and why not."""
    drt = _bin("drt")
    if drt.exists():
        return drt, "installed"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True)
        subprocess.run(
            [str(_bin("pip")), "install", "--quiet", "drt-core", "duckdb"],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        lines = [line for line in detail.splitlines() if not line.startswith("WARNING")]
        return None, "could not install drt-core: " + (lines[-1] if lines else str(exc))
    return (drt, "installed now") if drt.exists() else (None, "drt-core installed no `drt`")


def write_project(root: Path, warehouse: Path, sink_url: str, batch: int = 1000) -> Path:
    """A drt project in ``root`` (its profiles in ``root/home/.drt``) syncing
    ``audiences.carts`` of ``warehouse`` to ``sink_url``."""
    home = root / "home" / ".drt"
    home.mkdir(parents=True, exist_ok=True)
    (home / "profiles.yml").write_text(f"bench:\n  type: duckdb\n  database: {str(warehouse)!r}\n")
    (root / "drt_project.yml").write_text("name: bench\nprofile: bench\n")
    (root / "syncs").mkdir(exist_ok=True)
    template = BATCH_TEMPLATE.replace("'", "''")
    (root / "syncs" / "carts.yml").write_text(
        f"""name: carts
model: "select person_id, email, cast(cart_value as varchar) as cart_value, cart_items
  from audiences.carts"
destination:
  type: rest_api
  url: "{sink_url}{PREFIX}/carts"
  method: POST
  headers:
    Content-Type: "application/json"
  body_mode: batch
  max_records_per_request: {batch}
  batch_template: '{template}'
sync:
  mode: full
  batch_size: {batch}
  on_error: fail
"""
    )
    return root


def run_drt(drt: Path, project: Path) -> float:
    """Seconds of one ``drt run`` of the project (raises if it fails)."""
    env = {**os.environ, "HOME": str(project / "home"), "DO_NOT_TRACK": "1"}
    env.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    done = subprocess.run(
        [str(drt), "run", "--select", "carts"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-800:]
        raise RuntimeError(f"drt run failed ({done.returncode}): {output}")
    return seconds
