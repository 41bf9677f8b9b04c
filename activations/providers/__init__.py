"""Destinations a sync can deliver to. See ``base.py`` for the contract."""
