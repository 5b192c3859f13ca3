"""Transhumance: move an association's documents, posts and subscribers to free software."""

from migrate.runner import codecache

__version__ = "0.1.0"

codecache.install()  # before any of our dataclasses is made: see migrate/runner/codecache.py
