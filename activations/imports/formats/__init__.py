"""The file formats an import reads, by name: ``FORMAT_MODULES`` (format -> module).

Each module reads its file into the temp table ``import_lines`` (the columns of
``activations.imports.lines.LINE_COLUMNS``) and imports only ``lines``, never the
loader. Each has ``plan(path, namespace, *, mapping=None, mapping_file=None,
date_format=None) -> (FormatSpec, stage)``; the csv options apply to ``csv`` only.
"""

from __future__ import annotations

from types import ModuleType

from activations.imports.formats import cdnow, csv_mapping, online_retail

FORMAT_MODULES: dict[str, ModuleType] = {
    "online-retail": online_retail,
    "cdnow": cdnow,
    "csv": csv_mapping,
}
FORMATS = tuple(FORMAT_MODULES)

__all__ = ["FORMATS", "FORMAT_MODULES"]
