"""Sample data for `migrate demo`: the documents of a small French association, made on the spot
so the repository carries no binary fixtures and every run starts from the same files."""

from __future__ import annotations

import os
from pathlib import Path

_DOCUMENTS = {
    "Assemblée générale/2024/Procès-verbal AG 2024.txt":
        "Procès-verbal de l'assemblée générale du 12 avril 2024.\n"
        "Présents : 42 adhérent·es. Le rapport moral est adopté à l'unanimité.\n",
    "Assemblée générale/2024/Rapport financier.csv":
        "poste;montant\nCotisations;4 250,00\nSubventions;12 000,00\nDons;1 830,50\n",
    "Assemblée générale/2023/Procès-verbal AG 2023.txt":
        "Procès-verbal de l'assemblée générale du 15 avril 2023.\n",
    "Communication/Affiche fête de quartier.txt":
        "Fête de quartier — samedi 6 juillet, place du marché. Buvette solidaire !\n",
    "Communication/Lettre d'information/Numéro 1.txt": "Bonjour à toutes et à tous…\n",
    "Communication/Lettre d'information/Numéro 2.txt": "Des nouvelles du jardin partagé.\n",
    "Bénévoles/Planning été.csv": "date;créneau;bénévole\n2024-07-06;matin;Zoé\n",
    "Bénévoles/Charte du bénévolat.txt": "Chaque bénévole s'engage à…\n",
    "Partenaires/Коммуна (jumelage).txt": "Échanges avec notre commune jumelée.\n",
    "Partenaires/日本の友人.txt": "Projet d'échange culturel.\n",
    "Statuts.txt": "Article 1 — Il est fondé entre les adhérent·es aux présents statuts…\n",
    "Notes vides/à compléter.txt": "",
}
_EMPTY_FOLDERS = ["Archives 2019"]
_EPOCH = 1_700_000_000  # 2023-11-14: fixed, so the demo is the same everywhere


def write_demo_documents(root: Path) -> int:
    """Write the sample tree under `root`; return how many files it holds."""
    for index, (relative, text) in enumerate(sorted(_DOCUMENTS.items())):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        moment = _EPOCH + index * 86_400
        os.utime(path, (moment, moment))
    for folder in _EMPTY_FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    return len(_DOCUMENTS)
