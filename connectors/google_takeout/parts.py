"""Which files make one Takeout export: the parts of one export, never two exports mixed.

Takeout names its parts `takeout-<UTC time>-<NNN>.zip` (or `.tgz`); recent exports split the
data into segments, `takeout-<time>-<S>-<NNN>.tgz`, and a long export's later parts may carry a
later time while their numbers go on (`…211500Z-1-002`, then `…050420Z-1-003`), with a small
`takeout-<time>-001` beside them holding only `archive_browser.html` (part names as seen in real
exports, docs/decisions/0470-takeout-layouts.md). One export is therefore: the parts sharing a
name, plus the parts that continue its numbering within a week, plus its index part.

macOS's Archive Utility unpacks part 1 into `Takeout/` and the next ones into `Takeout 2/`,
`Takeout 3/`…: an extracted export is every `Takeout*` folder side by side. Windows' "Extract
all" unpacks each part into a folder of the part's name (`takeout-…-001/Takeout/…`): those
folders are parts like the archives.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from migrate.errors import FatalError
from migrate.i18n import _

ARCHIVE = re.compile(r"\.(zip|tgz|tar\.gz)$", re.IGNORECASE)
PART = re.compile(r"^takeout-(?P<time>\d{8}T\d{6}Z)(?:-(?P<segment>\d+))?-(?P<number>\d{3})"
                  r"(?:\.(?P<kind>zip|tgz|tar\.gz))?$", re.IGNORECASE)
EXTRACTED = re.compile(r"^Takeout(?: (?P<number>\d+))?$")
#: Parts of one export are all written within days; later exports are weeks apart at least.
CONTINUATION = timedelta(days=7)
#: An index part holds one HTML page: a tgz this small beside segmented parts is one.
INDEX_PART_MAX = 16 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    path: Path
    time: datetime
    segment: int | None
    number: int
    kind: str  # "zip", "tgz", or "folder": a part unpacked into a folder of its name

    @classmethod
    def parse(cls, path: Path) -> Part | None:
        match = PART.match(path.name)
        if not match:
            return None
        if match["kind"] is None:
            # Windows' "Extract all" unpacks takeout-…-001.zip into takeout-…-001/Takeout/.
            if not (path / "Takeout").is_dir():
                return None
            kind = "folder"
        else:
            kind = "zip" if match["kind"].lower() == "zip" else "tgz"
        segment = int(match["segment"]) if match["segment"] else None
        time = datetime.strptime(match["time"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return cls(path, time, segment, int(match["number"]), kind)


@dataclass
class Export:
    """One export's parts, in reading order."""

    parts: list[Part] = field(default_factory=list)

    @property
    def roots(self) -> list[Path]:
        """What the source reads: the archives, or the `Takeout` folder of each unpacked part."""
        return [p.path / "Takeout" if p.kind == "folder" else p.path for p in self.parts]

    @property
    def first(self) -> Part:
        return self.parts[0]

    def numbers(self, segment: int | None) -> list[int]:
        return [p.number for p in self.parts if p.segment == segment]

    def describe(self) -> str:
        names = ", ".join(p.path.name for p in self.parts)
        return _("{when} ({names})").format(when=self.first.time.strftime("%Y-%m-%d %H:%M UTC"),
                                           names=names)


def group_exports(paths: list[Path]) -> tuple[list[Export], list[Path]]:
    """(exports, archives that are not Takeout parts) among `paths`."""
    parts, others = [], []
    for path in paths:
        part = Part.parse(path)
        (parts.append(part) if part else others.append(path))
    parts.sort(key=lambda p: (p.time, p.segment or 0, p.number))
    chains: list[Export] = []
    for part in parts:
        chain = _chain_for(chains, part)
        if chain is None:
            chains.append(Export([part]))
        else:
            chain.parts.append(part)
    exports = _attach_indexes(chains)
    for export in exports:
        export.parts.sort(key=lambda p: (p.segment is not None, p.segment or 0, p.number))
    return exports, others


def _chain_for(chains: list[Export], part: Part) -> Export | None:
    """The export `part` belongs to: same name, or the next number of a recent export."""
    for chain in chains:
        same = [p for p in chain.parts if p.kind == part.kind and p.segment == part.segment]
        if not same:
            continue
        if part.number in [p.number for p in same]:
            continue  # a second part 002: another export
        if any(p.time == part.time for p in same):
            return chain
        if max(p.number for p in same) + 1 == part.number and \
                part.time - max(p.time for p in same) <= CONTINUATION:
            return chain
    return None


def prefer_archives(exports: list[Export]) -> list[Export]:
    """Leave out unpacked copies of parts whose archives are there too (Windows unpacks
    `takeout-…-001.zip` beside itself, into `takeout-…-001/`): the same export, read once."""
    def names(export: Export) -> set[tuple[datetime, int | None, int]]:
        return {(p.time, p.segment, p.number) for p in export.parts}

    archived = [names(e) for e in exports if e.first.kind != "folder"]
    return [e for e in exports
            if e.first.kind != "folder" or not any(names(e) <= other for other in archived)]


def _attach_indexes(chains: list[Export]) -> list[Export]:
    """A lone `-001` part beside segmented parts is their export's index (archive_browser.html)."""
    segmented = [c for c in chains if any(p.segment is not None for p in c.parts)]
    result = []
    for chain in chains:
        lone = len(chain.parts) == 1 and chain.first.segment is None and chain.first.number == 1
        near = [c for c in segmented
                if abs(c.first.time - chain.first.time) <= CONTINUATION and c is not chain]
        if lone and near and _is_index_part(chain.first.path):
            nearest = min(near, key=lambda c: abs(c.first.time - chain.first.time))
            nearest.parts.extend(chain.parts)
        else:
            result.append(chain)
    return result


def _is_index_part(path: Path) -> bool:
    """Whether a part holds only `archive_browser.html` (and is not a one-part export that
    happens to lie beside another export's parts)."""
    if path.is_dir():
        names = [p.name for p in (path / "Takeout").rglob("*") if p.is_file()]
        return names == ["archive_browser.html"]
    if path.suffix.lower() != ".zip":
        return path.stat().st_size < INDEX_PART_MAX  # a tgz has no directory to look at
    try:
        with zipfile.ZipFile(path) as opened:
            names = [n for n in opened.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError):
        return False
    return bool(names) and all(n.endswith("archive_browser.html") for n in names)


def check_complete(export: Export) -> None:
    """Refuse an export with a part missing in the middle: its files would vanish silently."""
    for segment in sorted({p.segment for p in export.parts}, key=lambda s: s or 0):
        numbers = sorted(export.numbers(segment))
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        if missing and not (segment is None and numbers == [1]):
            example = export.first.path.parent / re.sub(
                r"-\d{3}\.", f"-{missing[0]:03d}.", export.first.path.name, count=1)
            raise FatalError(_(
                "part {number} of the Takeout export of {when} is missing (expected for "
                "example {name} beside the others): download every part before migrating"
            ).format(number=f"{missing[0]:03d}", name=example.name,
                     when=export.first.time.strftime("%Y-%m-%d %H:%M UTC")))


def part_candidates(folder: Path) -> list[Path]:
    """Archives in `folder`, and folders named like a part holding an unpacked `Takeout/`."""
    return sorted(p for p in folder.iterdir() if (p.is_file() and ARCHIVE.search(p.name)) or
                  (p.is_dir() and Part.parse(p) is not None))


def extracted_roots(folder: Path) -> list[Path]:
    """`Takeout/`, `Takeout 2/`, `Takeout 3/`… in `folder`, in part order (empty if none)."""
    found = []
    for entry in folder.iterdir():
        match = EXTRACTED.match(entry.name)
        if match and entry.is_dir():
            found.append((int(match["number"] or 1), entry))
    return [path for _number, path in sorted(found)]


def mixed_exports_error(folder: Path, exports: list[Export]) -> FatalError:
    listed = "; ".join(export.describe() for export in exports)
    return FatalError(_(
        "{folder} holds {count} different Takeout exports: {exports}. Reading them together "
        "would let an older copy overwrite a newer one and bring back deleted files. Give the "
        "path of one part of the export to migrate (the others beside it are found), or move "
        "the other exports elsewhere").format(folder=folder, count=len(exports), exports=listed))
