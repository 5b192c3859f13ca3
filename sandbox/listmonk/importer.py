"""listmonk's asynchronous CSV importer (`internal/subimporter`), one session at a time.

`POST /api/import/subscribers` answers at once with status `importing`; rows are applied in a
background thread and a client must poll `GET /api/import/subscribers` until `finished` (or
`failed`). Invalid rows are skipped and only reported in the log.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from typing import Any

from sandbox.listmonk.store import ListmonkError, ListmonkStore, name_from_email
from sandbox.listmonk.store import sanitize_email as _sanitize

KNOWN_HEADERS = ("email", "name", "attributes")


class Importer:
    """Import state shared by the HTTP handlers; `row_delay` slows rows to observe progress."""

    def __init__(self, store: ListmonkStore) -> None:
        self.store = store
        self.row_delay = 0.0
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"name": "", "total": 0, "imported": 0, "status": "none"}
        self._log: list[str] = []
        self._thread: threading.Thread | None = None

    def stats(self) -> dict[str, Any]:
        """`{name, total, imported, status}` as `GET /api/import/subscribers` returns it."""
        with self._lock:
            return dict(self._status)

    def logs(self) -> str:
        """The session log as one string, like `GET /api/import/subscribers/logs`."""
        with self._lock:
            return "".join(f"{line}\n" for line in self._log)

    def start(self, params: dict[str, Any], filename: str, content: bytes) -> dict[str, Any]:
        """Validate the params as `handleImportSubscribers` does and start the session."""
        if self.stats()["status"] == "importing":
            raise ListmonkError(400, "An import is already running.")
        mode = params.get("mode")
        if mode not in ("subscribe", "blocklist"):
            raise ListmonkError(400, "Invalid mode.")
        status = params.get("subscription_status") or (
            "unconfirmed" if mode == "subscribe" else "unsubscribed")
        if status not in ("unconfirmed", "confirmed", "unsubscribed"):
            raise ListmonkError(400, "Invalid subscription status.")
        delim = params.get("delim", "")
        if len(delim) != 1:
            raise ListmonkError(400, "Invalid delimiter.")
        text = content.decode("utf-8-sig", errors="replace")
        with self._lock:
            # countLines(): every "\n" minus the header, so a file without a final newline
            # reports one row fewer in `total` than it imports.
            self._status = {"name": filename, "total": max(text.count("\n") - 1, 0),
                            "imported": 0, "status": "importing"}
            self._log = [f"processing '{filename}'"]
        session = dict(params, mode=mode, subscription_status=status, delim=delim)
        # listmonk answers with GetStats() right after starting the import's goroutines, so a
        # tiny file can already read `finished` there. The emulator answers with the state
        # taken before its thread starts: the common answer, and one a test can rely on (a
        # client must poll in any case, as ours does).
        answer = self.stats()
        self._thread = threading.Thread(target=self._run, args=(session, text), daemon=True)
        self._thread.start()
        return answer

    def stop(self) -> dict[str, Any]:
        """`DELETE /api/import/subscribers`: clears a finished session's state."""
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self._lock:
            self._status = {"name": "", "total": 0, "imported": 0, "status": "none"}
        return self.stats()

    def wait(self, timeout: float = 30) -> dict[str, Any]:
        """Python helper for tests: block until the running session ends."""
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        return self.stats()

    def _run(self, session: dict[str, Any], text: str) -> None:
        reader = csv.reader(io.StringIO(text), delimiter=session["delim"])
        header = [h.strip().encode("ascii", "ignore").decode() for h in next(reader, [])]
        columns = {h: i for i, h in enumerate(header) if h in KNOWN_HEADERS}
        if "email" not in columns:
            self._finish("failed", "'email' column not found")
            return
        for line, row in enumerate(reader, start=1):
            if len(row) < len(columns):
                self._note(f"skipping line {line}. column count ({len(row)}) does not match")
                continue
            self._apply(session, line, {h: row[i] for h, i in columns.items()})
            time.sleep(self.row_delay)
        self._finish("finished", "imported finished")

    def _apply(self, session: dict[str, Any], line: int, row: dict[str, str]) -> None:
        try:
            email = _sanitize(row["email"])
        except ListmonkError as error:
            self._note(f"skipping line {line}: {row['email']}: {error.message}")
            return
        name = row.get("name", "").strip() or name_from_email(email)
        attribs: dict[str, Any] = {}
        if row.get("attributes"):
            try:
                attribs = json.loads(row["attributes"])
            except ValueError as error:
                self._note(f"skipping invalid attributes JSON on line {line} for '{email}': "
                           f"{error}")
        if session["mode"] == "subscribe":
            self.store.upsert(email, name, attribs, list(session.get("lists") or []),
                              session["subscription_status"], bool(session.get("overwrite")))
        else:
            self.store.upsert_blocklist(email, name, attribs)
        with self._lock:
            self._status["imported"] += 1

    def _note(self, message: str) -> None:
        with self._lock:
            self._log.append(message)

    def _finish(self, status: str, message: str) -> None:
        with self._lock:
            self._status["status"] = status
            self._log.append(message)
