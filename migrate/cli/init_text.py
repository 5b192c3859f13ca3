"""The text of a scaffolded plan: connections and steps from `migrate init`'s answers, each
commented in English and French (plan files are read by volunteers; the comments stay in both
languages whatever the interface language, so a plan can be handed between people). The
connections' lines come from the chosen connectors' offers (migrate/init_offer.py)."""

from __future__ import annotations

from collections.abc import Mapping

from migrate.cli.init import KIND, NONE, offered
from migrate.init_offer import Secrets, quoted


def plan_text(answers: Mapping[str, str], prefix: str) -> tuple[str, dict[str, str]]:
    """The plan, and the environment variables it needs (name -> what to put in it)."""
    secrets = Secrets(prefix)
    connections: list[str] = []
    steps: list[str] = []
    for kind, how in KIND.items():
        choice = answers.get(kind, NONE)
        if choice == NONE:
            continue
        source = offered(kind, "source", choice)
        target = offered(kind, "target", answers[how.target_key])
        connections.append(source.connection(answers, secrets))
        connections.append(target.connection(answers, secrets))
        steps.append(
            (source.step_comment or how.step_comment)
            + f"  - id: {kind}\n"
            f"    {how.action}: {{from: {source.reference(answers)}, "
            f"to: {target.reference(answers)}}}\n")
    listed = "\n".join(f"#   export {name}=…   # {why}"
                       for name, why in secrets.variables.items())
    head = (
        "# yaml-language-server: $schema=../../plans/schema.json\n"
        f"# Migration plan for {answers['organisation']}, written by 'migrate init'.\n"
        f"# Plan de migration pour {answers['organisation']}, écrit par 'migrate init'.\n"
        "#\n"
        "# Secrets are never written here: set these variables before running.\n"
        "# Les secrets ne sont jamais écrits ici : définissez ces variables avant de lancer.\n"
        f"{listed}\n"
        "#\n"
        "# Then / Ensuite : migrate validate plan.yaml && migrate plan plan.yaml\n"
        "version: 1\n"
        f"organisation: {quoted(answers['organisation'])}\n\n"
        "connections:\n")
    return head + "\n".join(connections) + "\nsteps:\n" + "\n".join(steps), secrets.variables
