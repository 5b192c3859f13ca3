"""Transhumance: move an association's documents, posts and subscribers to free software."""

import gc

# A run's start-up makes tens of thousands of objects that live as long as it does (modules,
# classes, functions); with the default threshold (700) the collector walks the young ones
# dozens of times before a command has done anything (decision 0495). Cycles are still
# collected, only after 50,000 new objects instead of 700.
if gc.get_threshold()[0] < 50_000:
    gc.set_threshold(50_000, *gc.get_threshold()[1:])

from migrate.runner import codecache

__version__ = "0.1.0"

codecache.install()  # before any of our dataclasses is made: see migrate/runner/codecache.py
