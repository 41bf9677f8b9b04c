"""Reusable Dagster-side helpers (no definitions here: those live in ``defs/``)."""
