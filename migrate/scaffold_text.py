"""The text of a scaffolded plan: connections and steps from `migrate init`'s answers, each
commented in English and French (plan files are read by volunteers; the comments stay in both
languages whatever the interface language, so a plan can be handed between people)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from migrate.scaffold import NONE


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def plan_text(answers: Mapping[str, str], prefix: str) -> tuple[str, dict[str, str]]:
    """The plan, and the environment variables it needs (name -> what to put in it)."""
    variables: dict[str, str] = {}
    connections: list[str] = []
    steps: list[str] = []
    _documents(answers, prefix, variables, connections, steps)
    _posts(answers, prefix, variables, connections, steps)
    _members(answers, prefix, variables, connections, steps)
    secrets = "\n".join(f"#   export {name}=…   # {why}" for name, why in variables.items())
    head = (
        "# yaml-language-server: $schema=../../plans/schema.json\n"
        f"# Migration plan for {answers['organisation']}, written by 'migrate init'.\n"
        f"# Plan de migration pour {answers['organisation']}, écrit par 'migrate init'.\n"
        "#\n"
        "# Secrets are never written here: set these variables before running.\n"
        "# Les secrets ne sont jamais écrits ici : définissez ces variables avant de lancer.\n"
        f"{secrets}\n"
        "#\n"
        "# Then / Ensuite : migrate validate plan.yaml && migrate plan plan.yaml\n"
        "version: 1\n"
        f"organisation: {_q(answers['organisation'])}\n\n"
        "connections:\n")
    return head + "\n".join(connections) + "\nsteps:\n" + "\n".join(steps), variables


def _documents(answers: Mapping[str, str], prefix: str, variables: dict[str, str],
               connections: list[str], steps: list[str]) -> None:
    kind = answers.get("documents", NONE)
    if kind == NONE:
        return
    if kind == "drive":
        connections.append(
            "  # The Google Drive to leave. Sign in once with: migrate login plan.yaml drive\n"
            "  # Le Google Drive à quitter. Connectez-vous une fois : migrate login plan.yaml "
            "drive\n"
            "  drive: {type: google_drive}")
        source = _q(f"drive:{answers['drive_folder']}")
    else:
        connections.append(
            "  # The Google Takeout archive of the Drive (path relative to this folder).\n"
            "  # L'archive Google Takeout du Drive (chemin relatif à ce dossier).\n"
            f"  takeout: {{type: google_takeout, path: {_q(answers['takeout_path'])}}}")
        source = "takeout"
    password = f"{prefix}_NEXTCLOUD_PASSWORD"
    variables[password] = "an app password of the Nextcloud account / un mot de passe " \
                          "d'application du compte Nextcloud"
    connections.append(
        "  # The Nextcloud account that receives the documents.\n"
        "  # Le compte Nextcloud qui reçoit les documents.\n"
        f"  cloud:\n    type: nextcloud\n    url: {_q(answers['nextcloud_url'])}\n"
        f"    user: {_q(answers['nextcloud_user'])}\n"
        f"    password: \"${{env:{password}}}\"\n")
    steps.append(
        "  # Every document once; Google Docs become OpenDocument files.\n"
        "  # Chaque document une fois ; les Google Docs deviennent des fichiers OpenDocument.\n"
        "  - id: documents\n"
        f"    copy: {{from: {source}, to: {_q('cloud:' + answers['nextcloud_folder'])}}}\n")


def _posts(answers: Mapping[str, str], prefix: str, variables: dict[str, str],
           connections: list[str], steps: list[str]) -> None:
    kind = answers.get("posts", NONE)
    if kind == NONE:
        return
    if kind == "twitter":
        connections.append(
            "  # The Twitter/X archive (the zip from 'Download an archive of your data').\n"
            "  # L'archive Twitter/X (le zip de « Télécharger une archive de vos données »).\n"
            f"  posts_source: {{type: twitter_archive, path: {_q(answers['twitter_path'])}}}")
    else:
        connections.append(
            "  # The website's news feed (RSS or Atom).\n"
            "  # Le fil d'actualités du site (RSS ou Atom).\n"
            f"  posts_source: {{type: feed, url: {_q(answers['feed_url'])}}}")
    token = f"{prefix}_MASTODON_TOKEN"
    variables[token] = "an access token of the Mastodon account / un jeton d'accès du " \
                       "compte Mastodon"
    connections.append(
        "  # The Mastodon account that publishes them.\n"
        "  # Le compte Mastodon qui les publie.\n"
        f"  masto:\n    type: mastodon\n    url: {_q(answers['mastodon_url'])}\n"
        f"    token: \"${{env:{token}}}\"\n")
    steps.append(
        "  # Every post once, oldest first, with a line saying where it comes from.\n"
        "  # Chaque publication une fois, de la plus ancienne à la plus récente, avec sa "
        "provenance.\n"
        "  - id: posts\n"
        "    mirror: {from: posts_source, to: masto}\n")


def _members(answers: Mapping[str, str], prefix: str, variables: dict[str, str],
             connections: list[str], steps: list[str]) -> None:
    kind = answers.get("members", NONE)
    if kind == NONE:
        return
    if kind == "mailchimp":
        key = f"{prefix}_MAILCHIMP_API_KEY"
        variables[key] = "a Mailchimp API key / une clé d'API Mailchimp"
        connections.append(
            "  # The Mailchimp account (every member, whatever their status).\n"
            "  # Le compte Mailchimp (tous les membres, quel que soit leur statut).\n"
            f"  members_source: {{type: mailchimp, api_key: \"${{env:{key}}}\"}}")
        source = _q(f"members_source:{answers['mailchimp_audience']}")
    else:
        connections.append(
            "  # The members' CSV file (path relative to this folder).\n"
            "  # Le fichier CSV des membres (chemin relatif à ce dossier).\n"
            f"  members_source: {{type: csv, path: {_q(answers['csv_path'])}}}")
        source = "members_source"
    target = answers["list_target"]
    secret = f"{prefix}_{'LISTMONK_TOKEN' if target == 'listmonk' else 'MAILMAN_PASSWORD'}"
    option = "token" if target == "listmonk" else "password"
    variables[secret] = f"the {target} API {option} / le {option} de l'API {target}"
    connections.append(
        "  # The list server. Unsubscribed addresses are never subscribed again.\n"
        "  # Le serveur de listes. Les adresses désinscrites ne sont jamais réinscrites.\n"
        f"  list:\n    type: {target}\n    url: {_q(answers['list_url'])}\n"
        f"    user: {_q(answers['list_user'])}\n"
        f"    {option}: \"${{env:{secret}}}\"\n")
    steps.append(
        "  # Members with their consent; the plan shows a count that must add up.\n"
        "  # Les membres avec leur consentement ; le plan montre un décompte qui doit tomber "
        "juste.\n"
        "  - id: members\n"
        f"    export: {{from: {source}, to: {_q('list:' + answers['list_name'])}}}\n")
