"""What one WebDAV server does, learnt once and remembered beside the journal.

Two facts decide the cost of a copy and of a re-run on a plain WebDAV server:

- **Whether its PUT is atomic.** Apache's mod_dav_fs (httpd 2.4 and later) writes a PUT body to
  a `.davfs.tmp…` file beside the target and renames it into place when the body is complete
  (`dav_fs_open_stream` / `dav_fs_close_stream` in `modules/dav/fs/repos.c`), so a cut upload
  never shows under the final name. There a temporary name and a MOVE of our own only double
  the requests. mod_dav_fs names itself in the `DAV:` header of an OPTIONS answer
  (`<http://apache.org/dav/propset/fs/1>`), even behind a reverse proxy, which a `Server:`
  header does not prove. Every other server keeps our temporary name (decision 0480).
- **Whether it lists a whole tree at once.** Apache refuses `PROPFIND Depth: infinity` with 403
  by default (`DavDepthInfinity Off`), nginx too: asking again on every run wastes a round trip.

And one that decides the cost of each listed file: **whether it has ownCloud's properties**
(`oc:fileid`, `oc:checksums`). Apache answers each with a `404` block per file, after a look-up
in mod_dav_fs's property database per file (a re-run's listing on Apache took about 40 % less
server time without them). A listing that found none on any file or folder is remembered, and
the next ones ask only for the `DAV:` properties.

The profile is kept in `dav-servers.json` in the state folder, per server address, and probed
again after `MAX_AGE` (a server may be reconfigured). Without a state folder it lives for the
run only.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MOD_DAV_FS = "<http://apache.org/dav/propset/fs/1>"
FILE_NAME = "dav-servers.json"
#: Seconds after which a remembered profile is checked again.
MAX_AGE = 7 * 24 * 3600


@dataclass
class ServerProfile:
    """What the server at one address was seen to do (None: not known yet)."""

    atomic_put: bool | None = None
    depth_infinity: bool | None = None
    #: Whether a whole listing showed any `oc:fileid` or `oc:checksums` (ownCloud, Nextcloud,
    #: other Sabre servers): where none did, a listing no longer asks for them.
    owncloud_props: bool | None = None
    server: str = ""
    checked: float = 0.0

    @classmethod
    def from_options(cls, headers: Any) -> ServerProfile:
        """The profile an OPTIONS answer's headers show."""
        dav = ",".join(_all(headers, "DAV"))
        server = str(headers.get("Server", ""))[:200]
        # httpd 2.2 wrote PUT bodies in place; 2.4 (2013) brought the temporary file.
        atomic = MOD_DAV_FS in dav and "Apache/2.2" not in server and "Apache/1." not in server
        return cls(atomic_put=atomic, server=server, checked=time.time())


def _all(headers: Any, name: str) -> list[str]:
    """Every value of a header that may repeat (http.client and requests both)."""
    if hasattr(headers, "get_all"):
        return list(headers.get_all(name) or [])
    value = headers.get(name)
    return [value] if value else []


class ProfileStore:
    """`dav-servers.json`: profiles by server address, shared by the targets of one run."""

    _lock = threading.Lock()

    def __init__(self, state_dir: Path | None) -> None:
        self.path = state_dir / FILE_NAME if state_dir is not None else None
        self._memory: dict[str, ServerProfile] = {}

    def get(self, address: str) -> ServerProfile | None:
        with self._lock:
            if address in self._memory:
                return self._memory[address]
            found = self._read().get(address)
            if found is None:
                return None
            try:
                profile = ServerProfile(**found)
            except TypeError:
                return None  # written by another version: probe again
            if time.time() - profile.checked > MAX_AGE:
                return None
            self._memory[address] = profile
            return profile

    def put(self, address: str, profile: ServerProfile) -> None:
        with self._lock:
            self._memory[address] = profile
            if self.path is None:
                return
            import tempfile  # only when a profile changes: not on every start

            every = self._read()
            every[address] = asdict(profile)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=FILE_NAME)
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(every, out, indent=1, sort_keys=True)
                os.replace(temporary, self.path)
            except OSError:
                pass  # a cache: the next run probes again

    def _read(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            found = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}
