"""`DavSettings`: how one WebDAV target writes, chosen by its connector (`webdav`, `nextcloud`)
and read by `DavTarget` (target.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.dav.collisions import NameFolding
from connectors.dav.names import NameRules
from connectors.dav.profile import ProfileStore
from connectors.dav.sharing import ShareApi

MEGABYTE = 1 << 20


@dataclass(frozen=True)
class DavSettings:
    """How one target writes: the server's dialect, thresholds, names and sharing."""

    rules: NameRules
    chunk_threshold: int = 10 * MEGABYTE
    chunk_size: int = 10 * MEGABYTE
    #: None: a temporary name unless the server's own PUT is atomic (profile.py).
    temporary_names: bool | None = None
    #: Where what the server was seen to do is remembered between runs.
    profiles: ProfileStore = field(default_factory=lambda: ProfileStore(None))
    uploads_url: str | None = None  # …/remote.php/dav/uploads/<user>
    shares: ShareApi | None = None
    sharing: str = "report"
    identities: Mapping[str, Any] = field(default_factory=dict)
    #: How the server compares names; `stores_nfc`: it stores them in NFC (Nextcloud), so
    #: names are sent in that form and listed back as sent.
    folding: NameFolding = field(default_factory=NameFolding)
    stores_nfc: bool = False
    #: Files to download again after upload: 0 none, None all, N a random sample of N.
    read_back: int | None = 0
