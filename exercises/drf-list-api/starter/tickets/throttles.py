"""Throttle classes of the API (none yet)."""
