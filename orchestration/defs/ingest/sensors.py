"""New order files in the drop folder become ingest runs; in demo mode, an
hourly schedule regenerates the synthetic shop (off by default).

Drop folder (``$ACTIVATIONS_DROP_DIR``, default ``drop/`` at the project root),
one subfolder per format::

    drop/online-retail/*.parquet   drop/cdnow/*.txt   drop/csv/*.csv (+ <name>.yaml mapping)
"""

import json
import os
from pathlib import Path

import dagster as dg

from activations.paths import PROJECT_ROOT
from orchestration.defs.ingest.assets import ORDER_KEYS, ingest_job

FORMAT_FILES = {"online-retail": (".parquet",), "cdnow": (".txt",), "csv": (".csv",)}


def drop_dir() -> Path:
    return Path(os.environ.get("ACTIVATIONS_DROP_DIR") or PROJECT_ROOT / "drop")


def drop_files(root: Path) -> list[tuple[str, Path]]:
    """(format, file) for every importable file under ``root``, sorted."""
    found = []
    for fmt, suffixes in FORMAT_FILES.items():
        folder = root / fmt
        if folder.is_dir():
            found.extend((fmt, f) for f in sorted(folder.iterdir()) if f.suffix in suffixes)
    return found


def _version(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_mtime_ns}:{stat.st_size}"


@dg.sensor(
    name="drop_folder_sensor",
    job=ingest_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Imports each new or changed order file of the drop folder into raw.",
)
def drop_folder_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    root = drop_dir()
    if not root.is_dir():
        return dg.SkipReason(f"no drop folder at {root}")
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for fmt, path in drop_files(root):
        version = _version(path)
        if seen.get(str(path)) == version:
            continue
        seen[str(path)] = version
        config: dict[str, object] = {"mode": "file", "file": str(path), "format": fmt}
        mapping = path.with_suffix(".yaml")
        if fmt == "csv" and mapping.exists():
            config["mapping_file"] = str(mapping)
        requests.append(
            dg.RunRequest(
                run_key=f"{path}:{version}",
                asset_selection=ORDER_KEYS,
                run_config={"ops": {"ingest_raw": {"config": config}}},
                tags={"source_file": path.name, "format": fmt},
            )
        )
    if not requests:
        return dg.SkipReason(f"no new files in {root}")
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))


@dg.schedule(
    name="demo_ingest_schedule",
    job=ingest_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Demo mode: regenerate the synthetic shop up to now, every hour.",
)
def demo_ingest_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    tick = context.scheduled_execution_time
    return dg.RunRequest(
        run_key=f"demo-{tick:%Y%m%dT%H%M}" if tick else None,
        run_config={"ops": {"ingest_raw": {"config": {"mode": "demo"}}}},
        tags={"mode": "demo"},
    )
