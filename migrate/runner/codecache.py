"""The functions `dataclasses` writes for each class, compiled once and kept beside the .pyc files.

`@dataclass` writes a class's `__init__`, `__repr__`, `__eq__`… as source text and compiles it
with `exec` every time the class is made, that is at every start: 53 classes and 249 functions
on a WebDAV re-run, about a tenth of its CPU (callgrind: 160 M of 1,440 M instructions in
Python's parser and compiler). The text depends only on the class, so its compiled code can be
kept as a module's is: in this package's `__pycache__`, one file per interpreter (its cache tag
and bytecode magic number), written at exit where Python writes .pyc files (not under
`PYTHONDONTWRITEBYTECODE`) and only when something new was compiled.

The code run is what `exec` would have compiled from the same text (same file name, no
`__future__` flags inherited). A file that cannot be read, from another interpreter, or not a
table of texts and code, is ignored; one that cannot be written is left as it is.

The file is read whole and each text's code is kept marshalled until a class needs it: the
file holds every text used by any command (an apply's first run, `init`, `report`…), and
unmarshalling all of them, from the file object, took about 6 ms of a 0.2 s re-run; reading the
bytes and unmarshalling only the 60-odd codes a re-run uses takes a tenth of that.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import marshal
import os
import sys
from importlib.util import MAGIC_NUMBER
from types import CodeType
from typing import Any

#: Texts kept in the file at most: those this run used first, then earlier ones.
MAX_KEPT = 2000

#: Each text's compiled code, or its marshalled bytes until it is first used.
_codes: dict[str, CodeType | bytes] = {}
_used: set[str] = set()
_state = {"new": False, "installed": False}


def path() -> str | None:
    tag = sys.implementation.cache_tag
    if tag is None:
        return None
    return os.path.join(os.path.dirname(__file__), "__pycache__",
                        f"dataclass-code.{tag}.marshal")


def install() -> None:
    """From now on `dataclasses` compiles each text once per interpreter, not once per run."""
    where = path()
    if _state["installed"] or where is None:
        return
    _codes.update(_read(where))
    dataclasses.exec = _exec  # type: ignore[attr-defined]  # its global shadows the builtin
    _state["installed"] = True
    atexit.register(_write, where)


def _exec(source: Any, globals: Any = None, locals: Any = None, /, **options: Any) -> None:
    if type(source) is str:
        code = _codes.get(source)
        if type(code) is bytes:
            code = _codes[source] = _loaded(code) or _compiled(source)
        elif code is None:
            code = _codes[source] = _compiled(source)
        _used.add(source)
        source = code
    exec(source, globals, locals, **options)


def _compiled(source: str) -> CodeType:
    _state["new"] = True
    return compile(source, "<string>", "exec", dont_inherit=True)


def _loaded(data: bytes) -> CodeType | None:
    """A text's code from its marshalled bytes; None (compile it again) if they are not code."""
    try:
        code = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    return code if type(code) is CodeType else None


def _read(where: str) -> dict[str, bytes]:
    try:
        with open(where, "rb") as cache:
            magic, found = marshal.loads(cache.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if magic != MAGIC_NUMBER or not isinstance(found, dict):
        return {}
    return {text: code for text, code in found.items()
            if type(text) is str and type(code) is bytes}


def _dumped(code: CodeType | bytes) -> bytes:
    return code if type(code) is bytes else marshal.dumps(code)


def _write(where: str) -> None:
    if not _state["new"] or sys.dont_write_bytecode:
        return
    kept = {text: _dumped(code) for text, code in _codes.items() if text in _used}
    for text, code in _codes.items():
        if len(kept) >= MAX_KEPT:
            break
        if text not in kept:
            kept[text] = _dumped(code)
    temporary = f"{where}.{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(where), exist_ok=True)
        with open(temporary, "wb") as cache:
            marshal.dump((MAGIC_NUMBER, kept), cache)
        os.replace(temporary, where)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
