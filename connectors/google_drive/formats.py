"""What becomes of each Google type: the export format and extension per `google_docs` choice,
and why types with no file equivalent are skipped."""

from __future__ import annotations

from typing import Any

from migrate.i18n import _

APPS = "application/vnd.google-apps."
FOLDER = APPS + "folder"
SHORTCUT = APPS + "shortcut"
DOCUMENT, SPREADSHEET = APPS + "document", APPS + "spreadsheet"
PRESENTATION, DRAWING, JAM = APPS + "presentation", APPS + "drawing", APPS + "jam"
SCRIPT, VID = APPS + "script", APPS + "vid"
SCRIPT_JSON, MP4 = "application/vnd.google-apps.script+json", "video/mp4"

ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PDF = "application/pdf"

#: google_docs choice -> Google type -> (export MIME type, extension). Drive has no ODG export,
#: so drawings become PDF (vector, printable) in every choice; Jamboards only export to PDF.
EXPORTS: dict[str, dict[str, tuple[str, str]]] = {
    "odf": {DOCUMENT: (ODT, ".odt"), SPREADSHEET: (ODS, ".ods"), PRESENTATION: (ODP, ".odp")},
    "ooxml": {DOCUMENT: (DOCX, ".docx"), SPREADSHEET: (XLSX, ".xlsx"),
              PRESENTATION: (PPTX, ".pptx")},
    "pdf": {DOCUMENT: (PDF, ".pdf"), SPREADSHEET: (PDF, ".pdf"), PRESENTATION: (PDF, ".pdf")},
}
ALWAYS_PDF = {DRAWING, JAM}
#: Types with one export whatever the choice: Apps Script projects as their files in JSON
#: (files.export); Google Vids as MP4, which only files.download gives (a long-running
#: operation, see source.py), hence their own `how`.
FIXED = {SCRIPT: (SCRIPT_JSON, ".json"), VID: (MP4, ".mp4")}
DOWNLOAD_OPERATION = {VID}

#: Google types with no file to export, and what to tell the volunteer instead.
NO_EQUIVALENT = {
    APPS + "form": "Google Forms have no file equivalent; export the responses as a spreadsheet "
                   "(Responses → Link to Sheets) and the questions by hand",
    APPS + "site": "Google Sites have no file equivalent; rebuild the site or save its pages "
                   "as PDF",
    APPS + "map": "Google My Maps have no file equivalent here; export the map as KML from "
                  "My Maps",
    APPS + "fusiontable": "Fusion Tables no longer exist at Google; nothing to export",
}


#: Export MIME types Drive spells two ways in `exportLinks` (both seen in the wild).
ALTERNATE_MIMES = {ODS: ("application/x-vnd.oasis.opendocument.spreadsheet",)}


def export_link(entry: dict[str, Any], export_mime: str) -> str | None:
    """The document's exportLink for `export_mime`, under either of its spellings."""
    links = entry.get("exportLinks") or {}
    for mime in (export_mime, *ALTERNATE_MIMES.get(export_mime, ())):
        if links.get(mime):
            return str(links[mime])
    return None


def export_for(mime: str, choice: str) -> tuple[str, str] | None:
    """(export MIME type, extension) for a Google type, or None if it has no file export."""
    if mime in ALWAYS_PDF:
        return PDF, ".pdf"
    if mime in FIXED:
        return FIXED[mime]
    return EXPORTS[choice].get(mime)


def skip_reason_for(mime: str) -> str:
    """Why a Google type without export is not copied, in plain words."""
    if mime in NO_EQUIVALENT:
        return _(NO_EQUIVALENT[mime])
    kind = mime.removeprefix(APPS)
    return _("this kind of Google file ({kind}) has no file equivalent").format(kind=kind)


def is_google_type(mime: str) -> bool:
    return mime.startswith(APPS) and mime not in (FOLDER, SHORTCUT)


def link_file(url: str) -> bytes:
    """A `.url` internet shortcut, which Windows, macOS and most file managers open."""
    return f"[InternetShortcut]\r\nURL={url}\r\n".encode()
