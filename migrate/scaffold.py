"""`migrate init`: scaffold one client's folder, `clients/<client>/plan.yaml`, from plain answers.

It asks which services the organisation leaves and where it goes, the addresses and account
names — never a secret's value. Passwords and tokens are written as `${env:<CLIENT>_…}`
references (prefixed with the client's name, so that several clients' secrets can live in one
environment without mixing) and the command prints which variables to set. The plan is
commented in English and French and passes `migrate validate` once those variables are set.

Answers come from the terminal, from stdin, or from `--answers FILE` (YAML, the same keys as
`QUESTIONS`); an agency keeps a shared answers file as its template and one per client.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from migrate.errors import MigrateError
from migrate.i18n import N_, _
from migrate.options import Option, OptionValueError, check_value


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    default: str = ""
    choices: tuple[str, ...] = ()
    #: Asked only when this earlier answer (key, value in values) holds.
    when: tuple[str, tuple[str, ...]] | None = None

    def problem(self, value: str) -> str | None:
        """What is wrong with an answer that can be told without contacting anything."""
        if self.key.endswith("_url") and value:
            try:
                check_value(Option(self.key, "url"), value)
            except OptionValueError as error:
                return str(error)
        return None


NONE = "none"
QUESTIONS = (
    Question("organisation", N_("Name of the organisation")),
    Question("documents", N_("Documents to move: from Google Drive, from a Google Takeout "
             "archive, or none"), "none", ("drive", "takeout", NONE)),
    Question("takeout_path", N_("Path of the Takeout archive (zip), relative to the client's "
             "folder"), "exports/takeout.zip", when=("documents", ("takeout",))),
    Question("drive_folder", N_("Drive folder to copy (/ for everything)"), "/",
             when=("documents", ("drive",))),
    Question("nextcloud_url", N_("Address of the Nextcloud server"), "https://cloud.example.org",
             when=("documents", ("drive", "takeout"))),
    Question("nextcloud_user", N_("Nextcloud account that receives the documents"),
             when=("documents", ("drive", "takeout"))),
    Question("nextcloud_folder", N_("Nextcloud folder to put them in"), "/Documents",
             when=("documents", ("drive", "takeout"))),
    Question("posts", N_("Posts to move: from a Twitter/X archive, from a website feed "
             "(RSS/Atom), or none"), "none", ("twitter", "feed", NONE)),
    Question("twitter_path", N_("Path of the Twitter/X archive (zip), relative to the client's "
             "folder"), "exports/twitter.zip", when=("posts", ("twitter",))),
    Question("feed_url", N_("Address of the feed"), when=("posts", ("feed",))),
    Question("mastodon_url", N_("Address of the Mastodon server"), "https://mastodon.example",
             when=("posts", ("twitter", "feed"))),
    Question("members", N_("Mailing list members to move: from Mailchimp, from a CSV file, "
             "or none"), "none", ("mailchimp", "csv", NONE)),
    Question("mailchimp_audience", N_("Name of the Mailchimp audience"),
             when=("members", ("mailchimp",))),
    Question("csv_path", N_("Path of the CSV file, relative to the client's folder"),
             "exports/members.csv", when=("members", ("csv",))),
    Question("list_target", N_("Where the list goes: listmonk or Mailman"), "listmonk",
             ("listmonk", "mailman3"), when=("members", ("mailchimp", "csv"))),
    Question("list_url", N_("Address of the list server (listmonk or Mailman's REST API)"),
             when=("members", ("mailchimp", "csv"))),
    Question("list_user", N_("API user name on the list server"), "api",
             when=("members", ("mailchimp", "csv"))),
    Question("list_name", N_("Name of the list there (Mailman: its address)"),
             when=("members", ("mailchimp", "csv"))),
)


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
    known = {q.key for q in QUESTIONS}
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
    for question in QUESTIONS:
        if question.when and answers.get(question.when[0]) not in question.when[1]:
            continue
        value = given.get(question.key)
        if value is None:
            if ask is None and not question.default:
                raise MigrateError(_("no answer for '{key}' ({text})").format(
                    key=question.key, text=_(question.text)))
            value = ask(question) if ask else question.default
        value = value.strip()
        if question.choices and value not in question.choices:
            raise MigrateError(_("'{value}' is not one of: {choices} ({text})").format(
                value=value, choices=", ".join(question.choices), text=_(question.text)))
        if not value:
            raise MigrateError(_("'{key}' needs an answer ({text})").format(
                key=question.key, text=_(question.text)))
        problem = question.problem(value)
        if problem:
            raise MigrateError(_("'{key}': {problem} ({text})").format(
                key=question.key, problem=problem, text=_(question.text)))
        answers[question.key] = value
    if all(answers.get(kind, NONE) == NONE for kind in ("documents", "posts", "members")):
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
    from migrate.scaffold_text import plan_text

    folder = clients_dir / slug(answers["organisation"])
    plan = folder / "plan.yaml"
    if plan.exists() and not force:
        raise MigrateError(_("{plan} already exists; edit it, or add --force to write it "
                             "again").format(plan=plan))
    text, variables = plan_text(answers, slug(answers["organisation"]).upper().replace("-", "_"))
    folder.mkdir(parents=True, exist_ok=True)
    plan.write_text(text, encoding="utf-8")
    return Scaffold(folder, plan, variables)
