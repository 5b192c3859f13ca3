"""Debian's Chromium, headless, to check an HTML report as a reader's browser shows it.

The tests install nothing: without `/usr/bin/chromium` they skip, naming the apt line
(`apt-get update && apt-get install -y chromium poppler-utils`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get update && apt-get install -y chromium poppler-utils"
ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
#: What Chromium logs for each console message (`console.log/error`, uncaught errors).
CONSOLE = re.compile(r":(?:INFO|WARNING|ERROR):CONSOLE[^\]]*\]\s*(.*)")


def require_chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"headless browser checks need Debian's Chromium: {INSTALL}")
    return CHROMIUM


def run_chromium(page: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Chromium on `page` with a throwaway profile; console messages logged to stderr."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [str(require_chromium()), *FLAGS, f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", *extra, page.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def console_messages(page: Path) -> list[str]:
    """Every console message the page produced while loading (and its DOM, parsed)."""
    result = run_chromium(page, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "</html>" in result.stdout, "Chromium did not render the page"
    return [match.group(1) for match in CONSOLE.finditer(result.stderr)]


def screenshot(page: Path, out: Path, width: int = 1200, height: int = 2400) -> list[str]:
    """Screenshot the page to `out`; return every console message it produced while loading
    (the same as `console_messages`, from the same run: one Chromium start, not two)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    result = run_chromium(page, f"--window-size={width},{height}", f"--screenshot={out}")
    assert out.exists() and out.stat().st_size > 10_000, result.stderr[-2000:]
    return [match.group(1) for match in CONSOLE.finditer(result.stderr)]


def print_to_pdf(page: Path, out: Path) -> str:
    """Print the page to PDF; return the PDF's text (pdftotext) or '' when poppler is absent."""
    out.parent.mkdir(parents=True, exist_ok=True)
    result = run_chromium(page, f"--print-to-pdf={out}", "--no-pdf-header-footer")
    assert out.exists(), result.stderr[-2000:]
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5_000, len(data)
    if shutil.which("pdftotext") is None:
        return ""
    return subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout


class Anchors(HTMLParser):
    """Ids, hrefs and any attribute that would fetch something (src, url(…), <link>)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.fetching: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if tag in ("link", "script", "img", "iframe", "object", "embed", "image", "use") or \
                "src" in found or "srcset" in found:
            self.fetching.append(f"<{tag} {found}>")


def anchors(text: str) -> Anchors:
    parser = Anchors()
    parser.feed(text)
    return parser
