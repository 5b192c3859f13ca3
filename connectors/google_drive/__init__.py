"""`google_drive`: Google Drive as a source (see connector.py)."""

from connectors.google_drive.connector import GoogleDriveConnector

__all__ = ["GoogleDriveConnector"]
