"""`migrate init`: scaffold one client's folder, `clients/<client>/plan.yaml`, from plain answers.

It asks which services the organisation leaves and where it goes, the addresses and account
names — never a secret's value. Passwords and tokens are written as `${env:<CLIENT>_…}`
references (prefixed with the client's name, so that several clients' secrets can live in one
environment without mixing) and the command prints which variables to set. The plan is
commented in English and French and passes `migrate validate` once those variables are set.

Answers come from the terminal, from stdin, or from `--answers FILE` (YAML, the same keys as
`questions()`); an agency keeps a shared answers file as its template and one per client.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from migrate import registry
from migrate.errors import MigrateError
from migrate.i18n import N_, _
from migrate.init_offer import Offer, Question

__all__ = ["KIND", "NONE", "Question", "gather", "offers", "questions", "read_answers", "write"]


NONE = "none"


@dataclass(frozen=True)
class Kind:
    """How the core asks about one kind of thing to move and writes its step."""

    question: str  # `{choices}`: the sources' phrases
    #: The answer naming the target (`list_target` for members, the name earlier answers
    #: files use); asked only when several targets are installed.
    target_key: str
    target_question: str
    action: str
    #: The step's comment (both languages) unless the source gives its own.
    step_comment: str


KIND = {
    "documents": Kind(
        N_("Documents to move: {choices}"), "documents_target",
        N_("Where the documents go: {choices}"), "copy",
        "  # Every document once.\n  # Chaque document une fois.\n"),
    "posts": Kind(
        N_("Posts to move: {choices}"), "posts_target", N_("Where the posts go: {choices}"),
        "mirror",
        "  # Every post once, oldest first, with a line saying where it comes from.\n"
        "  # Chaque publication une fois, de la plus ancienne à la plus récente, avec sa "
        "provenance.\n"),
    "members": Kind(
        N_("Mailing list members to move: {choices}"), "list_target",
        N_("Where the list goes: {choices}"), "export",
        "  # Members with their consent; the plan shows a count that must add up.\n"
        "  # Les membres avec leur consentement ; le plan montre un décompte qui doit tomber "
        "juste.\n"),
}


def offers() -> list[Offer]:
    """What the installed connectors offer `init`, by rank then choice."""
    found: dict[tuple[str, str, str], Offer] = {}
    for name in registry.names():
        for offer in registry.get(name).init_offers:
            if offer.moves not in KIND or offer.role not in ("source", "target") \
                    or offer.choice == NONE:
                raise MigrateError(_("connector '{name}' offers 'migrate init' something it "
                                     "cannot ask: {offer}").format(name=name, offer=offer))
            key = (offer.moves, offer.role, offer.choice)
            if key in found:
                raise MigrateError(_("two connectors offer '{choice}' to 'migrate init'")
                                   .format(choice=offer.choice))
            found[key] = offer
    return sorted(found.values(), key=lambda offer: (offer.rank, offer.choice))


def offered(kind: str, role: str, choice: str) -> Offer:
    for offer in offers():
        if (offer.moves, offer.role, offer.choice) == (kind, role, choice):
            return offer
    raise MigrateError(_("no installed connector offers '{choice}'").format(choice=choice))


def questions() -> tuple[Question, ...]:
    """Every question `init` may ask, in order: per kind, which source, its questions, which
    target, its questions. Kinds without an installed source or target are left out."""
    found = offers()
    asked = [Question("organisation", N_("Name of the organisation"))]
    for kind, how in KIND.items():
        sources = [o for o in found if o.moves == kind and o.role == "source"]
        targets = [o for o in found if o.moves == kind and o.role == "target"]
        if not sources or not targets:
            continue
        picks = tuple(o.choice for o in sources)
        asked.append(Question(kind, how.question, NONE, (*picks, NONE),
                              parts=(*(o.phrase for o in sources), N_("nothing (none)"))))
        for source in sources:
            asked += [replace(q, when=(kind, (source.choice,))) for q in source.questions]
        asked.append(Question(how.target_key, how.target_question, targets[0].choice,
                              tuple(o.choice for o in targets), when=(kind, picks),
                              parts=tuple(o.phrase for o in targets)))
        for target in targets:
            asked += [replace(q, when=(how.target_key, (target.choice,)))
                      for q in target.questions]
    return tuple(asked)


def slug(name: str) -> str:
    """"Les Amis du Jardin" → "les-amis-du-jardin": a folder name and an id."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "client"


def read_answers(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise MigrateError(_("cannot read the answers file {path}: {reason}").format(
            path=path, reason=error)) from None
    if not isinstance(data, dict):
        raise MigrateError(_("{path}: the answers must be a mapping, e.g. 'organisation: "
                             "Les Amis'").format(path=path))
    known = {q.key for q in questions()}
    unknown = sorted(set(data) - known, key=str)
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), sorted(known), n=1)
        hint = (" — " + _("did you mean '{s}'?").format(s=close[0])) if close else ""
        raise MigrateError(_("{path}: unknown answers: {keys} (known: {known})").format(
            path=path, keys=", ".join(map(str, unknown)), known=", ".join(sorted(known))) + hint)
    return {str(k): str(v) for k, v in data.items() if v is not None}


Ask = Callable[[Question], str]


def gather(given: Mapping[str, str], ask: Ask | None) -> dict[str, str]:
    """Every answer the plan needs: given ones first, then asked (or defaults without `ask`)."""
    answers: dict[str, str] = {}
    for question in questions():
        if question.when and answers.get(question.when[0]) not in question.when[1]:
            continue
        value = given.get(question.key)
        if value is None and len(question.choices) == 1:  # one possible answer: not asked
            value = question.choices[0]
        if value is None:
            if ask is None and not question.default:
                raise MigrateError(_("no answer for '{key}' ({text})").format(
                    key=question.key, text=question.prompt()))
            value = ask(question) if ask else question.default
        value = value.strip()
        if question.choices and value not in question.choices:
            raise MigrateError(_("'{value}' is not one of: {choices} ({text})").format(
                value=value, choices=", ".join(question.choices), text=question.prompt()))
        if not value:
            raise MigrateError(_("'{key}' needs an answer ({text})").format(
                key=question.key, text=question.prompt()))
        problem = question.problem(value)
        if problem:
            raise MigrateError(_("'{key}': {problem} ({text})").format(
                key=question.key, problem=problem, text=question.prompt()))
        answers[question.key] = value
    if all(answers.get(kind, NONE) == NONE for kind in KIND):
        raise MigrateError(_("choose at least one service to move (documents, posts or "
                             "members)"))
    return answers


@dataclass
class Scaffold:
    folder: Path
    plan: Path
    variables: dict[str, str]  # name -> what to put in it

    def to_json(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "plan": str(self.plan),
                "variables": self.variables}


def write(answers: Mapping[str, str], clients_dir: Path, force: bool = False) -> Scaffold:
    """Write `<clients_dir>/<slug>/plan.yaml` (never over an existing plan unless `force`)."""
    from migrate.cli.init_text import plan_text

    folder = clients_dir / slug(answers["organisation"])
    plan = folder / "plan.yaml"
    if plan.exists() and not force:
        raise MigrateError(_("{plan} already exists; edit it, or add --force to write it "
                             "again").format(plan=plan))
    text, variables = plan_text(answers, slug(answers["organisation"]).upper().replace("-", "_"))
    folder.mkdir(parents=True, exist_ok=True)
    plan.write_text(text, encoding="utf-8")
    return Scaffold(folder, plan, variables)
