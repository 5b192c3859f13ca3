"""What `migrate init` offers with a Google Takeout archive: the Drive's documents, as a
source."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.google_drive.offer import GOOGLE_DOCS_STEP
from migrate.i18n import N_
from migrate.init_offer import Offer, Question, Secrets, quoted


def _connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    return ("  # The Google Takeout archive of the Drive (path relative to this folder).\n"
            "  # L'archive Google Takeout du Drive (chemin relatif à ce dossier).\n"
            f"  takeout: {{type: google_takeout, path: {quoted(answers['takeout_path'])}}}")


OFFER = Offer(
    moves="documents", role="source", choice="takeout",
    phrase=N_("from a Google Takeout archive"), connection=_connection,
    reference=lambda answers: "takeout",
    questions=(Question("takeout_path", N_("Path of the Takeout archive (zip), relative to the "
                                           "client's folder"), "exports/takeout.zip"),),
    step_comment=GOOGLE_DOCS_STEP, rank=20)
