"""The dataclass code cache (migrate/runner/codecache.py): the classes it helps make behave as
the ones `exec` makes, and its file is written, read back, and ignored when it is not its own."""

from __future__ import annotations

import builtins
import dataclasses
import marshal
import sys
from pathlib import Path

import pytest

from migrate.runner import codecache


def _classes() -> tuple[type, type]:
    """The same frozen, slotted dataclass made through the cache and through plain `exec`."""
    def make() -> type:
        return dataclasses.make_dataclass(
            "Sample", [("name", str), ("size", "int | None", dataclasses.field(default=None)),
                       ("tags", tuple, dataclasses.field(default_factory=tuple))],
            frozen=True, slots=True, order=True)

    assert dataclasses.exec is codecache._exec  # type: ignore[attr-defined]  # migrate did it
    cached = make()
    dataclasses.exec = builtins.exec  # type: ignore[attr-defined]
    try:
        plain = make()
    finally:
        dataclasses.exec = codecache._exec  # type: ignore[attr-defined]
    return cached, plain


def test_a_class_made_through_the_cache_behaves_as_one_made_by_exec() -> None:
    cached, plain = _classes()
    for cls in (cached, plain):
        one, two = cls("a", 1), cls("b")
        assert (repr(one), one == cls("a", 1), one < two, hash(one) == hash(cls("a", 1))) == (
            "Sample(name='a', size=1, tags=())", True, True, True)
        with pytest.raises(dataclasses.FrozenInstanceError):
            one.name = "c"  # type: ignore[misc]
    assert cached.__init__.__annotations__ == plain.__init__.__annotations__  # no __future__
    assert cached.__init__.__code__.co_code == plain.__init__.__code__.co_code
    assert cached.__init__.__code__.co_flags == plain.__init__.__code__.co_flags


def test_the_file_is_written_and_read_back(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _classes()
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setitem(codecache._state, "new", True)
    where = tmp_path / "__pycache__" / "dataclass-code.marshal"
    codecache._write(str(where))
    found = codecache._read(str(where))
    assert found and set(codecache._used) <= set(found)
    assert all(marshal.loads(found[text]).co_code == compile(
        text, "<string>", "exec", dont_inherit=True).co_code
               for text in found)


def test_nothing_is_written_where_python_writes_no_bytecode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setitem(codecache._state, "new", True)
    codecache._write(str(tmp_path / "cache.marshal"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [
    b"", b"not marshal", marshal.dumps((b"\x00\x00\r\n", {"def f(): pass": None})),
    marshal.dumps(["a", "list"]), marshal.dumps((b"magic", {})),
    marshal.dumps((codecache.MAGIC_NUMBER, {"text": "not code", 1: compile("", "", "exec")})),
])
def test_a_damaged_or_foreign_file_is_ignored(tmp_path: Path, content: bytes) -> None:
    where = tmp_path / "cache.marshal"
    where.write_bytes(content)
    assert codecache._read(str(where)) == {}
    assert codecache._read(str(tmp_path / "missing.marshal")) == {}


def test_codes_are_unmarshalled_when_used_and_bad_bytes_are_compiled_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The file's codes stay bytes until a class needs one; bytes that are not code (a damaged
    entry) are compiled from the text instead."""
    text = "def __create_fn__():\n def f(self): return 41 + 1\n return f"
    monkeypatch.setitem(codecache._codes, text, b"not marshal")
    namespace: dict[str, object] = {}
    codecache._exec(text, {}, namespace)
    assert namespace["__create_fn__"]()(None) == 42  # type: ignore[operator]
    assert type(codecache._codes[text]) is type(compile("", "", "exec"))
    other = text.replace("41", "40")
    monkeypatch.setitem(codecache._codes, other, marshal.dumps(compile(
        other, "<string>", "exec", dont_inherit=True)))
    codecache._exec(other, {}, namespace)
    assert namespace["__create_fn__"]()(None) == 41  # type: ignore[operator]
