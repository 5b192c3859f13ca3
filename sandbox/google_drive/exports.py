"""Export formats of Google types and real bytes for each: ODF, OOXML, PDF, images, text.

Every document produced is minimal but structurally valid (OpenDocument zips start with a
stored `mimetype` member; PDFs have a correct xref table), and is padded *inside* its content
to the size the seed asked for, so a "12 MB" document really exports as about 12 MB.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from xml.sax.saxutils import escape

from .model import GOOGLE_KINDS

ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODS_LEGACY = "application/x-vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PDF = "application/pdf"
SCRIPT_JSON = "application/vnd.google-apps.script+json"

#: Google type -> {export MIME type: exportFormat name used in exportLinks}, as Drive lists them
#: in about.exportFormats. Forms, Sites and My Maps have no file export.
EXPORT_FORMATS: dict[str, dict[str, str]] = {
    GOOGLE_KINDS["doc"]: {
        DOCX: "docx",
        ODT: "odt",
        "application/rtf": "rtf",
        PDF: "pdf",
        "text/plain": "txt",
        "text/html": "html",
        "application/zip": "zip",
        "application/epub+zip": "epub",
        "text/markdown": "md",
    },
    GOOGLE_KINDS["sheet"]: {
        XLSX: "xlsx",
        ODS: "ods",
        ODS_LEGACY: "ods",
        PDF: "pdf",
        "text/csv": "csv",
        "text/tab-separated-values": "tsv",
        "application/zip": "zip",
    },
    GOOGLE_KINDS["slides"]: {PPTX: "pptx", ODP: "odp", PDF: "pdf", "text/plain": "txt"},
    GOOGLE_KINDS["drawing"]: {
        PDF: "pdf",
        "image/jpeg": "jpeg",
        "image/png": "png",
        "image/svg+xml": "svg",
    },
    GOOGLE_KINDS["jam"]: {PDF: "pdf"},
    GOOGLE_KINDS["form"]: {},
    GOOGLE_KINDS["site"]: {},
    GOOGLE_KINDS["map"]: {},
    # Apps Script projects export as their files in JSON; Vids have no export at all: only
    # files.download (a long-running operation) gives their video (see media.py).
    GOOGLE_KINDS["script"]: {SCRIPT_JSON: "json"},
    GOOGLE_KINDS["vid"]: {},
}

#: Path segment of the real exportLinks host per type (docs.google.com/feeds/download/<x>/...).
EXPORT_LINK_SEGMENTS = {
    GOOGLE_KINDS["doc"]: "documents",
    GOOGLE_KINDS["sheet"]: "spreadsheets",
    GOOGLE_KINDS["slides"]: "presentations",
    GOOGLE_KINDS["drawing"]: "drawings",
    GOOGLE_KINDS["jam"]: "jams",
}

_FILLER = "Texte de remplissage de l'association — réunion, budget, été, Œuvre. "


def filler(size: int) -> str:
    """About `size` bytes of plain French text (ASCII-heavy, so characters ≈ bytes)."""
    if size <= 0:
        return ""
    count = size // len(_FILLER.encode()) + 1
    text = (_FILLER * count).encode()[:size]
    return text.decode("utf-8", errors="ignore")


def _zip(members: list[tuple[str, str | bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            # Every member is stored: ODF and EPUB require it of the first (`mimetype`), and
            # stored padding makes the export really weigh the size it was seeded with.
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            archive.writestr(info, data, zipfile.ZIP_STORED)
    return buffer.getvalue()


def _odf(mime: str, title: str, padding: str) -> bytes:
    office = {ODT: "text", ODS: "spreadsheet", ODP: "presentation"}[mime]
    if office == "text":
        body = f"<text:h>{escape(title)}</text:h><text:p>{escape(padding)}</text:p>"
    elif office == "spreadsheet":
        body = (
            '<table:table table:name="Feuille1"><table:table-row><table:table-cell '
            f'office:value-type="string"><text:p>{escape(title)}</text:p></table:table-cell>'
            f"<table:table-cell><text:p>{escape(padding)}</text:p></table:table-cell>"
            "</table:table-row></table:table>"
        )
    else:
        body = (
            '<draw:page draw:name="page1"><draw:frame><draw:text-box>'
            f"<text:p>{escape(title)}</text:p><text:p>{escape(padding)}</text:p>"
            "</draw:text-box></draw:frame></draw:page>"
        )
    namespaces = " ".join(
        f'xmlns:{prefix}="urn:oasis:names:tc:opendocument:xmlns:{urn}"'
        for prefix, urn in [
            ("office", "office:1.0"),
            ("text", "text:1.0"),
            ("table", "table:1.0"),
            ("draw", "drawing:1.0"),
        ]
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {namespaces} '
        f'office:version="1.2"><office:body><office:{office}>{body}</office:{office}>'
        "</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    return _zip([("mimetype", mime), ("META-INF/manifest.xml", manifest), ("content.xml", content)])


def _ooxml(mime: str, title: str, padding: str) -> bytes:
    text = escape(title + " " + padding)
    if mime == DOCX:
        part, part_type, rel_type = (
            "word/document.xml",
            "wordprocessingml.document.main",
            "officeDocument",
        )
        xml = (
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
        )
    elif mime == XLSX:
        part, part_type, rel_type = "xl/workbook.xml", "spreadsheetml.sheet.main", "officeDocument"
        xml = (
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheets><sheet name="Feuille1" sheetId="1"/></sheets><!-- {text} --></workbook>'
        )
    else:
        part, part_type, rel_type = (
            "ppt/presentation.xml",
            "presentationml.presentation.main",
            "officeDocument",
        )
        xml = (
            '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
            f"<!-- {text} --></p:presentation>"
        )
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        f'"application/xml"/><Override PartName="/{part}" ContentType="application/vnd.'
        f'openxmlformats-officedocument.{part_type}+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
        '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        f'openxmlformats.org/officeDocument/2006/relationships/{rel_type}" Target="{part}"/>'
        "</Relationships>"
    )
    return _zip([("[Content_Types].xml", types), ("_rels/.rels", rels), (part, xml)])


def _pdf(title: str, padding: str) -> bytes:
    safe = title.encode("latin-1", "replace").decode("latin-1").replace("(", "[").replace(")", "]")
    # The padding is a PDF comment inside the content stream: valid, and counted by /Length.
    stream = f"BT /F1 18 Tf 72 720 Td ({safe}) Tj ET\n%{padding.replace(chr(10), ' ')}\n"
    stream_bytes = stream.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream_bytes) + stream_bytes + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _png(title: str, padding: str) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    text = b"Comment\0" + (title + " " + padding).encode("latin-1", "replace")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", text)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def _jpeg(title: str, padding: str) -> bytes:
    # A hand-built baseline 1x1 greyscale JPEG: one DC and one AC Huffman code, one block.
    comment = (title + " " + padding).encode("utf-8")
    segments = b"".join(
        b"\xff\xfe" + struct.pack(">H", len(piece) + 2) + piece
        for piece in (comment[i : i + 65000] for i in range(0, len(comment), 65000))
    )
    quant = b"\xff\xdb\x00\x43\x00" + b"\x01" * 64
    frame = b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    dc = b"\xff\xc4\x00\x14\x00" + b"\x01" + b"\x00" * 15 + b"\x00"
    ac = b"\xff\xc4\x00\x14\x10" + b"\x01" + b"\x00" * 15 + b"\x00"
    scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x3f"
    return b"\xff\xd8" + segments + quant + frame + dc + ac + scan + b"\xff\xd9"


def _epub(title: str, padding: str) -> bytes:
    container = (
        '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:'
        'xmlns:container"><rootfiles><rootfile full-path="content.opf" media-type="application/'
        'oebps-package+xml"/></rootfiles></container>'
    )
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="id">transhumance</dc:identifier><dc:title>{escape(title)}</dc:title>'
        '<dc:language>fr</dc:language></metadata><manifest><item id="c" href="c.xhtml" '
        'media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c"/></spine>'
        "</package>"
    )
    return _zip(
        [
            ("mimetype", "application/epub+zip"),
            ("META-INF/container.xml", container),
            ("content.opf", opf),
            ("c.xhtml", _html(title, padding).decode()),
        ]
    )


def _html(title: str, padding: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title></head><body><h1>{escape(title)}</h1><p>{escape(padding)}</p></body></html>"
    ).encode()


def _text(template: str) -> Callable[[str, str], bytes]:
    return lambda title, padding: template.format(title=title, padding=padding).encode()


_RENDERERS: dict[str, Callable[[str, str], bytes]] = {
    ODT: lambda t, p: _odf(ODT, t, p),
    ODS: lambda t, p: _odf(ODS, t, p),
    ODS_LEGACY: lambda t, p: _odf(ODS, t, p),
    ODP: lambda t, p: _odf(ODP, t, p),
    DOCX: lambda t, p: _ooxml(DOCX, t, p),
    XLSX: lambda t, p: _ooxml(XLSX, t, p),
    PPTX: lambda t, p: _ooxml(PPTX, t, p),
    PDF: _pdf,
    "image/png": _png,
    "image/jpeg": _jpeg,
    "image/svg+xml": _text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>{title}</title>'
        "<!-- {padding} --></svg>"
    ),
    "text/html": _html,
    "application/zip": lambda t, p: _zip([("index.html", _html(t, p))]),
    "application/epub+zip": _epub,
    "application/rtf": _text("{{\\rtf1\\ansi {title}\\par {padding}}}"),
    "text/plain": _text("{title}\n{padding}\n"),
    "text/markdown": _text("# {title}\n\n{padding}\n"),
    "text/csv": _text('"{title}","{padding}"\r\n'),
    "text/tab-separated-values": _text("{title}\t{padding}\n"),
    SCRIPT_JSON: _text('{{"files": [{{"name": "Code", "type": "server_js", '
                       '"source": "// {title}\\n// {padding}"}}]}}'),
}


def export_formats(mime_type: str) -> dict[str, str]:
    """Export MIME type -> format name for a Google type (empty for non-exportable types)."""
    return EXPORT_FORMATS.get(mime_type, {})


def render_export(export_mime: str, title: str, target_size: int) -> bytes:
    """A valid document of `export_mime` titled `title`, padded to about `target_size` bytes."""
    render = _RENDERERS[export_mime]
    document = render(title, "")
    padding = 0
    # Formats re-encode text differently (Latin-1 in PDF, escaping in XML): adjust twice.
    for _ in range(2):
        if len(document) >= target_size:
            break
        padding += target_size - len(document)
        document = render(title, filler(padding))
    return document
