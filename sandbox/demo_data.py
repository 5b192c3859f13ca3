"""Every sample export `migrate demo` migrates, written in one call: the demo (in the core)
names no service, the stand-ins know their own samples."""

from __future__ import annotations

from pathlib import Path

from sandbox.samples import write_demo_documents
from sandbox.samples_mailing import write_mailing_samples
from sandbox.samples_social import write_social_samples
from sandbox.samples_takeout import write_takeout_sample


def write_demo_data(data: Path) -> None:
    """The files the demo plan reads, under `data/` (documents, exports, member lists)."""
    write_demo_documents(data / "documents")
    write_social_samples(data)
    write_takeout_sample(data / "takeout")
    write_mailing_samples(data)
