# Metadata lives in pyproject.toml; this shim is kept for tools that still call setup.py.
from setuptools import setup

setup()
