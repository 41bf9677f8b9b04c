"""Historical order imports: real order histories (UCI Online Retail, CDNOW, any
CSV with a column mapping) landed into the raw tables, idempotently, with every
line that is not loaded kept in ``raw.import_rejects`` with its reason.

Each format module (``formats/``) turns its file into the same table of *import
lines* (see ``lines.LINE_COLUMNS``); ``loader.land`` does the rest for all formats.
"""

from activations.imports.loader import FORMATS, ImportResult, import_customers, import_orders

__all__ = ["FORMATS", "ImportResult", "import_customers", "import_orders"]
