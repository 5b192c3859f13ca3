"""`archive_browser.html`: Google's own list of what an export holds, read for Drive.

Its structure, as parsers of real exports read it: one `<div id="service-details-…">` block per
product, headed `<h1>Drive</h1>`; inside, `<div class="extracted-folder-name">` names a folder
and each following `<div class="file-leaf"><div class="extracted-file-name">` a file in it.
A file Google lists there but no part holds was not exported (or its part is missing): the
source reports it instead of letting it vanish.
"""

from __future__ import annotations

import html
import re

BLOCK = re.compile(r'<div id="service-details-[^"]*"[^>]*>.*?(?=<div id="service-details-|\Z)',
                   re.DOTALL)
HEADING = re.compile(r"<h1[^>]*>([^<]*)</h1>")
JOB = re.compile(r'<div class="job-id[^"]*">([^<]*)</div>')
CREATED = re.compile(r'<div class="header_subtext">([^<•&]*)')
ENTRY = re.compile(r'<div class="extracted-folder-name">([^<]*)</div>|'
                   r'<div class="extracted-file-name">([^<]*)</div>')


def drive_listing(page: str, drive_folder: str) -> set[str] | None:
    """Paths relative to Takeout/ that the index lists under `drive_folder`, or None if the
    page has no block for it (an index part of another product, an older page)."""
    product = drive_folder.split("/")[0]
    for block in BLOCK.findall(page):
        heading = HEADING.search(block)
        if heading is None or html.unescape(heading.group(1)).strip() != product:
            continue
        listed, folder = set(), ""
        for folder_name, file_name in ENTRY.findall(block):
            if folder_name:
                folder = html.unescape(folder_name).strip().strip("/")
            elif file_name:
                name = html.unescape(file_name).strip()
                listed.add("/".join(p for p in (product, folder, name) if p))
        return listed
    return None


def export_identity(page: str) -> str | None:
    """What tells one export's index from another's: its job id, else its creation time (the
    page heading); None if the page has neither (then nothing can be concluded)."""
    for pattern in (JOB, CREATED):
        found = pattern.search(page)
        if found and found.group(1).strip():
            return html.unescape(found.group(1)).strip()
    return None
