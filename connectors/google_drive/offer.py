"""What `migrate init` offers with a Google Drive: its documents, as a source."""

from __future__ import annotations

from collections.abc import Mapping

from migrate.i18n import N_
from migrate.init_offer import Offer, Question, Secrets, quoted

#: The documents step's comment, for both Google sources: what happens to Google's own formats.
GOOGLE_DOCS_STEP = (
    "  # Every document once; Google Docs become OpenDocument files.\n"
    "  # Chaque document une fois ; les Google Docs deviennent des fichiers OpenDocument.\n")


def _connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    return ("  # The Google Drive to leave. Sign in once with: migrate login plan.yaml drive\n"
            "  # Le Google Drive à quitter. Connectez-vous une fois : migrate login plan.yaml "
            "drive\n"
            "  drive: {type: google_drive}")


OFFER = Offer(
    moves="documents", role="source", choice="drive", phrase=N_("from Google Drive"),
    connection=_connection,
    reference=lambda answers: quoted(f"drive:{answers['drive_folder']}"),
    questions=(Question("drive_folder", N_("Drive folder to copy (/ for everything)"), "/"),),
    step_comment=GOOGLE_DOCS_STEP, rank=10)
