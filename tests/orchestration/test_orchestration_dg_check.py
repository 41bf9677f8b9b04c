"""`dg check defs`, as CI runs it: the project's definitions load from the CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from activations.paths import PROJECT_ROOT


def test_dg_check_defs(orchestration_env: dict[str, str], tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        (PROJECT_ROOT / "orchestration" / "dagster.yaml").read_text()
    )
    env = {
        **os.environ,
        **orchestration_env,
        "DAGSTER_HOME": str(home),
        "DUCKDB_PATH": str(tmp_path / "scratch.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
    }
    dg_bin = Path(orchestration_env["PATH"].split(os.pathsep)[0]) / "dg"
    done = subprocess.run(
        [str(dg_bin), "check", "defs"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "All component YAML validated successfully" in done.stdout + done.stderr or (
        "success" in (done.stdout + done.stderr).lower()
    )
