"""Hostile-input and fault-injection suite that prints its figures (RELIABILITY.md §4)."""
