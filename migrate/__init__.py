"""Transhumance: move an association's documents, posts and subscribers to free software."""

__version__ = "0.1.0"
