"""Historical order imports: real order histories (UCI Online Retail, CDNOW, any
CSV with a column mapping) landed into the raw tables, idempotently, with every
line that is not loaded kept in ``raw.import_rejects`` with its reason.

Each format module turns its file into the same table of *import lines*
(see ``loader.LINE_COLUMNS``); ``loader.land`` does the rest for all formats.
"""

from activations.imports.loader import ImportResult, import_orders

__all__ = ["ImportResult", "import_orders"]
