"""Click help in the user's language.

Click reads help texts when the module is imported, before `--lang` is known, so commands and
options keep their English text and these classes translate it when help is shown. The language
is chosen from the command line before click parses it (`TranslatedGroup.parse_args`), so
`migrate --lang fr plan --help` and `LANG=fr_FR.UTF-8 migrate --help` are French throughout.
"""

from __future__ import annotations

import copy
import inspect
import re
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import click

from migrate.i18n import N_, _, set_language

#: Click's own words that show in our help (it translates them with a catalogue we do not ship).
CLICK_WORDS = (N_("Usage: "), N_("Options"), N_("Commands"), N_("Show this message and exit."),
               N_("Show the version and exit."), N_("[OPTIONS]"), N_("COMMAND [ARGS]..."))
_EXTRAS = (("[default: ", N_("[default: ")), ("; required]", N_("; required]")),
           ("[required]", N_("[required]")))
#: The words click writes for an option's value (`--step TEXT`), by the value's type.
METAVARS = re.compile(r"\b(TEXT|PATH|INTEGER RANGE|INTEGER|FLOAT|FILE|DIRECTORY)\b")
_METAVAR_WORDS = (N_("TEXT"), N_("PATH"), N_("INTEGER RANGE"), N_("INTEGER"), N_("FLOAT"),
                  N_("FILE"), N_("DIRECTORY"))


def language_argument(args: list[str]) -> str | None:
    """The value of `--lang` on a command line, if given (`--lang fr` or `--lang=fr`)."""
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _translated_help(text: str | None) -> str | None:
    return _(inspect.cleandoc(text)) if text else text


def _option_record(param: click.Parameter, context: click.Context) -> tuple[str, str] | None:
    clone = copy.copy(param)
    if isinstance(clone, click.Option):
        clone.help = _translated_help(clone.help)
    record = clone.get_help_record(context)
    if record is None:
        return None
    names, text = record
    names = METAVARS.sub(lambda found: _(found.group(1)), names)
    for english, marked in _EXTRAS:
        text = text.replace(english, _(marked))
    return names, text


def short_help(text: str, limit: int) -> str:
    """The first sentence of a command's help, shortened at a word to fit `limit` characters,
    as click does (its public helper is deprecated and leaves in Click 9). A period ends the
    sentence unless a lowercase word follows it ("e.g. a volunteer")."""
    words = text.partition("\f")[0].partition("\n\n")[0].split()
    for index, word in enumerate(words):
        if word.endswith(".") and (index == len(words) - 1 or not words[index + 1][0].islower()):
            words = words[: index + 1]
            break
    sentence = " ".join(words)
    if len(sentence) <= limit:
        return sentence
    return textwrap.shorten(sentence, max(limit, 4), placeholder="...", break_on_hyphens=False)


@contextmanager
def section(formatter: click.HelpFormatter, title: str) -> Iterator[None]:
    """A help section whose heading is punctuated for the language ("Options :" in French);
    click's own appends a bare colon."""
    formatter.write_paragraph()
    formatter.write(f"{'':>{formatter.current_indent}}{_('{heading}:').format(heading=title)}\n")
    with formatter.indentation():
        yield


class TranslatedCommand(click.Command):
    """A command whose help, option help and headings are translated when shown."""

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.short_help:
            return _translated_help(self.short_help) or ""
        return short_help(_translated_help(self.help) or "", limit)

    def format_usage(self, context: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = [_(piece) for piece in self.collect_usage_pieces(context)]
        formatter.write_usage(context.command_path, " ".join(pieces), prefix=_("Usage: "))

    def format_help_text(self, context: click.Context, formatter: click.HelpFormatter) -> None:
        text = (_translated_help(self.help) or "").partition("\f")[0]
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def format_options(self, context: click.Context, formatter: click.HelpFormatter) -> None:
        records = [r for p in self.get_params(context) if (r := _option_record(p, context))]
        if records:
            with section(formatter, _("Options")):
                formatter.write_dl(records)


class TranslatedGroup(TranslatedCommand, click.Group):
    """A group translating its help and its commands' short help; chooses the language first."""

    command_class = TranslatedCommand
    group_class = type  # subgroups are of the same class

    def parse_args(self, context: click.Context, args: list[str]) -> list[str]:
        if context.parent is None:  # the top group: before any help can be printed
            set_language(language_argument(args))
        return super().parse_args(context, args)

    def format_options(self, context: click.Context, formatter: click.HelpFormatter) -> None:
        TranslatedCommand.format_options(self, context, formatter)
        self.format_commands(context, formatter)

    def format_commands(self, context: click.Context, formatter: click.HelpFormatter) -> None:
        commands = [(name, command) for name in self.list_commands(context)
                    if (command := self.get_command(context, name)) and not command.hidden]
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _command in commands)
        with section(formatter, _("Commands")):
            formatter.write_dl([(name, command.get_short_help_str(limit))
                                for name, command in commands])

