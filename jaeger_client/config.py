"""STUB: replaced by the config work."""

from __future__ import annotations


class Config:
    pass
