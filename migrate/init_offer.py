"""What a connector offers `migrate init`: which kind of thing it moves (documents, posts,
members), as a source or a target, the questions it needs and the connection it writes into the
scaffolded plan. The core builds `init`'s questions from the installed connectors' offers, so it
names no service and a third-party connector appears in `init` by declaring `init_offers`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from migrate.i18n import _
from migrate.options import Option, OptionValueError, check_value

#: What `init` moves, in the order it asks; each kind becomes one step of the plan.
KINDS = ("documents", "posts", "members")


@dataclass(frozen=True)
class Question:
    key: str
    #: The question (a message id, translated when asked); `{choices}` is filled from `parts`.
    text: str
    default: str = ""
    choices: tuple[str, ...] = ()
    #: Asked only when this earlier answer (key, value in values) holds.
    when: tuple[str, tuple[str, ...]] | None = None
    #: How each choice is said (message ids), listed in place of `{choices}` in `text`.
    parts: tuple[str, ...] = ()

    def prompt(self) -> str:
        """The question in the interface language."""
        if not self.parts:
            return _(self.text)
        said = [_(part) for part in self.parts]
        listed = said[0] if len(said) == 1 else _("{some} or {last}").format(
            some=", ".join(said[:-1]), last=said[-1])
        return _(self.text).format(choices=listed)

    def problem(self, value: str) -> str | None:
        """What is wrong with an answer that can be told without contacting anything."""
        if self.key.endswith("_url") and value:
            try:
                check_value(Option(self.key, "url"), value)
            except OptionValueError as error:
                return str(error)
        return None


class Secrets:
    """The environment variables a scaffolded plan refers to, prefixed with the client's name
    (several clients' secrets can live in one environment without mixing)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.variables: dict[str, str] = {}  # name -> what to put in it

    def ref(self, suffix: str, what: str) -> str:
        """`${env:<PREFIX>_<suffix>}`, the variable recorded with `what` to put in it."""
        name = f"{self.prefix}_{suffix}"
        self.variables[name] = what
        return f"${{env:{name}}}"


#: The connection's lines in the plan (its comment in English and French, its name, its
#: options), from the answers.
Connection = Callable[[Mapping[str, str], Secrets], str]
#: Where the step reads or writes, as written in the plan (`drive:/Com`, `masto`), YAML.
Reference = Callable[[Mapping[str, str]], str]


@dataclass(frozen=True)
class Offer:
    moves: str  # one of KINDS
    role: str  # "source" or "target"
    #: The answer that picks this offer (`documents: drive`).
    choice: str
    #: How the choice is said in the question (a message id: "from Google Drive").
    phrase: str
    connection: Connection
    reference: Reference
    #: The questions asked once this offer is chosen (`when` is set by the core).
    questions: tuple[Question, ...] = ()
    #: A source's comment on the step (both languages), instead of the kind's usual one.
    step_comment: str = ""
    #: Offers are listed by rank, then choice.
    rank: int = 100


def quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)
