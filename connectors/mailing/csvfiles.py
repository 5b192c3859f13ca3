"""Reading member CSV files as people actually have them: UTF-8, UTF-8 with a BOM, or cp1252 as
re-saved by a French Excel (`;` between columns); delimiter and quoting detected, overridable.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from migrate.errors import FatalError
from migrate.i18n import _
from migrate.options import option

DELIMITERS = {",": ",", ";": ";", "tab": "\t"}


def encoding_option() -> Any:
    """The `encoding` field of a connector reading member CSV files."""
    return option(
        choices=("auto", "utf-8", "utf-8-sig", "cp1252"), default="auto",
        help="The file's character encoding. 'auto' reads UTF-8 (with or without a BOM) and "
             "falls back to cp1252, what Excel uses when it saves a CSV on a French Windows.")


def delimiter_option() -> Any:
    """The `delimiter` field of a connector reading member CSV files."""
    return option(
        choices=("auto", ",", ";", "tab"), default="auto",
        help="What separates the columns. 'auto' detects ',', ';' (Excel in French) or tab.")


def decode(data: bytes, encoding: str = "auto") -> str:
    """The file's text. `auto`: a BOM says UTF-8; valid UTF-8 is UTF-8; else cp1252."""
    if encoding != "auto":
        return data.decode(encoding, errors="replace")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    for bom, name in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                      (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):  # Excel's "Unicode text": its BOM says which
            return data.decode(name, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(sample: str, delimiter: str = "auto") -> str:
    """The column separator: given, else the one csv.Sniffer finds among `,` `;` tab (quoted
    cells taken into account), else the most frequent of them on the header line."""
    if delimiter != "auto":
        return DELIMITERS[delimiter]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max((",", ";", "\t"), key=header.count)


@dataclass(frozen=True)
class Row:
    """One data row: cells by column name, and where it is (for reports)."""

    cells: dict[str, str]
    line: int


def read_rows(text: str, delimiter: str = "auto", header_starts: str | None = None,
              name: str = "", header_only: bool = False) -> Iterator[Row]:
    """Rows of a CSV text by header name. With `header_starts`, lines before the first line
    whose first cell starts with it (a title line, as Google Groups writes) are passed over.
    With `header_only`, one row: the header's names (as keys). A cell over the csv module's
    limit (128 KB) stops the file with a message naming `name` and the line."""
    try:
        yield from _rows(text, delimiter, header_starts, header_only)
    except csv.Error as error:
        raise unreadable(name or "CSV", _("the CSV text is malformed ({problem}); a cell "
                                          "may be far too long").format(problem=error)) from None


def _rows(text: str, delimiter: str, header_starts: str | None, header_only: bool
          ) -> Iterator[Row]:
    lines = text.splitlines(keepends=True)
    start = 0
    if header_starts is not None:
        wanted = header_starts.casefold()
        start = next((n for n, line in enumerate(lines)
                      if line.lstrip('"\ufeff').casefold().startswith(wanted)), 0)
    body = "".join(lines[start:])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sniff_delimiter(
        body[:8192], delimiter))
    header = [name.strip() for name in next(reader, [])]
    if header_only:
        yield Row(dict.fromkeys(header, ""), start + reader.line_num)
        return
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        yield Row(dict(zip(header, (c.strip() for c in cells), strict=False)),
                  start + reader.line_num)


def split_tags(value: str) -> list[str]:
    """Mailchimp's TAGS cell, `"VIP","Bénévoles, Festival"`: quoted names, commas inside."""
    if not value.strip():
        return []
    try:
        cells = next(csv.reader([value], skipinitialspace=True))
    except csv.Error:  # a line break or a stray quote inside the cell: plain commas then
        cells = value.replace('"', "").split(",")
    return [tag.strip() for tag in cells if tag.strip()]


def unreadable(path: object, why: str) -> FatalError:
    return FatalError(_("cannot read '{path}': {why}").format(path=path, why=why))
