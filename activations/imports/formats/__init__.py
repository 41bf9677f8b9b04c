"""The file formats an import reads, by name: ``FORMAT_MODULES`` (format -> module).

Each module reads its file into the temp table ``import_lines`` (the columns of
``activations.imports.lines.LINE_COLUMNS``) and imports only ``lines``, never the
loader. Each has ``plan(path, namespace, *, mapping=None, mapping_file=None,
date_format=None) -> (FormatSpec, stage)``; the csv options apply to ``csv`` only.
``customers_csv`` is the customer file (``CUSTOMER_FORMAT_MODULES``), read with the
same CSV machinery as ``csv_mapping``.
"""

from __future__ import annotations

from types import ModuleType

from activations.imports.formats import cdnow, csv_mapping, customers_csv, online_retail

FORMAT_MODULES: dict[str, ModuleType] = {
    "online-retail": online_retail,
    "cdnow": cdnow,
    "csv": csv_mapping,
}
FORMATS = tuple(FORMAT_MODULES)

# files of customers (``activations import customers``), by format
CUSTOMER_FORMAT_MODULES: dict[str, ModuleType] = {"csv": customers_csv}

__all__ = ["CUSTOMER_FORMAT_MODULES", "FORMATS", "FORMAT_MODULES"]
