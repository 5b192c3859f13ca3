"""A faithful local emulator of the Google Drive API v3 (read side), for tests and demos.

`GoogleDriveServer` serves it on loopback; `DriveState` holds what it serves; `seed` fills it
with a realistic association drive.
"""

from .errors import DriveApiError
from .server import GoogleDriveServer
from .state import DriveState

__all__ = ["DriveApiError", "DriveState", "GoogleDriveServer"]
