"""`google_takeout`: the Drive part of Google Takeout archives (see connector.py)."""

from connectors.google_takeout.connector import GoogleTakeoutConnector

__all__ = ["GoogleTakeoutConnector"]
