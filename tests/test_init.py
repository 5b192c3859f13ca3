"""`migrate init` driven as a user would (answers typed on stdin, or an answers file): it writes
a commented plan that `migrate validate` accepts once the variables it names are set, and never
asks for or writes a secret's value."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

from migrate.cli import init as scaffold
from tests.guide_connector import installed
from tests.helpers import migrate

TYPED = "\n".join([
    "Les Amis du Jardin",            # organisation
    "takeout", "",                   # documents, archive path (default)
    "https://cloud.amis.example", "amis", "",  # Nextcloud address, account, folder (default)
    "twitter", "", "",               # posts, archive path, Mastodon address (defaults)
    "mailchimp", "Amis du jardin",   # members, audience
    "listmonk", "https://lists.amis.example", "", "newsletter",  # list server, user, list
]) + "\n"
VARIABLES = {"LES_AMIS_DU_JARDIN_NEXTCLOUD_PASSWORD": "nc-app-password-1",
             "LES_AMIS_DU_JARDIN_MASTODON_TOKEN": "masto-token-1",
             "LES_AMIS_DU_JARDIN_MAILCHIMP_API_KEY": "mc-key-us1",
             "LES_AMIS_DU_JARDIN_LISTMONK_TOKEN": "lm-token-1"}


def test_typed_answers_make_a_plan_that_validates(tmp_path: Path) -> None:
    made = migrate("init", input=TYPED, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    plan = tmp_path / "clients" / "les-amis-du-jardin" / "plan.yaml"
    text = plan.read_text(encoding="utf-8")
    assert "Le compte Nextcloud" in text and "The Nextcloud account" in text  # both languages
    assert "${env:LES_AMIS_DU_JARDIN_NEXTCLOUD_PASSWORD}" in text
    for name in VARIABLES:  # every variable to set is printed
        assert f"export {name}=" in made.stdout
    # Without the variables, validate names the first missing one; with them, it accepts.
    missing = migrate("validate", plan, cwd=tmp_path)
    assert missing.returncode == 1 and "LES_AMIS_DU_JARDIN_NEXTCLOUD_PASSWORD" in missing.stderr
    valid = migrate("validate", plan, "--json", cwd=tmp_path, env=VARIABLES)
    assert valid.returncode == 0, valid.stderr
    assert json.loads(valid.stdout)["steps"] == ["documents", "posts", "members"]
    assert json.loads(valid.stdout)["warnings"] == []  # no secret written in clear
    # A second init for the same organisation never overwrites the plan.
    again = migrate("init", input=TYPED, cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_answers_file_for_an_agency_template(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "organisation: Coopérative Bocage\n"
        "documents: drive\ndrive_folder: /Communication\n"
        "nextcloud_url: https://cloud.bocage.example\nnextcloud_user: comm\n"
        "posts: feed\nfeed_url: https://bocage.example/feed.xml\n"
        "members: csv\nlist_target: mailman3\nlist_url: http://localhost:8001/3.1\n"
        "list_user: restadmin\nlist_name: infos@lists.bocage.example\n", encoding="utf-8")
    made = migrate("init", "--answers", answers, "--clients-dir", tmp_path / "clients",
                   "--json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    scaffold = json.loads(made.stdout)
    assert sorted(scaffold["variables"]) == ["COOPERATIVE_BOCAGE_MAILMAN_PASSWORD",
                                             "COOPERATIVE_BOCAGE_MASTODON_TOKEN",
                                             "COOPERATIVE_BOCAGE_NEXTCLOUD_PASSWORD"]
    env = dict.fromkeys(scaffold["variables"], "some-secret-value")
    valid = migrate("validate", scaffold["plan"], "--json", env=env)
    assert valid.returncode == 0, valid.stderr
    assert Path(scaffold["folder"]).name == "cooperative-bocage"


def test_wrong_answers_are_plain_errors(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("organisation: X\ndocuments: dropbox\n", encoding="utf-8")
    wrong = migrate("init", "--answers", answers, cwd=tmp_path)
    assert wrong.returncode == 1 and "'dropbox' is not one of" in wrong.stderr
    answers.write_text("organisation: X\ndocumnets: drive\n", encoding="utf-8")
    unknown = migrate("init", "--answers", answers, cwd=tmp_path)
    assert unknown.returncode == 1 and "documnets" in unknown.stderr
    assert "did you mean 'documents'?" in unknown.stderr
    answers.write_text("organisation: X\ndocuments: takeout\nnextcloud_url: cloud.x.example\n"
                       "nextcloud_user: x\n", encoding="utf-8")
    no_scheme = migrate("init", "--answers", answers, cwd=tmp_path)
    assert no_scheme.returncode == 1 and "https://cloud.x.example" in no_scheme.stderr
    assert not (tmp_path / "clients" / "x" / "plan.yaml").exists()
    answers.write_text("organisation: X\n", encoding="utf-8")
    nothing = migrate("init", "--answers", answers, cwd=tmp_path)
    assert nothing.returncode == 1 and "at least one service" in nothing.stderr
    assert "Traceback" not in wrong.stderr + unknown.stderr + nothing.stderr + no_scheme.stderr


def test_a_plugin_connector_is_one_of_inits_choices(tmp_path: Path) -> None:
    """A connector installed from another package (the guide's `shelf`) offers itself as a
    place for the documents: `init` lists it, asks its question and writes its connection,
    and the plan it scaffolds copies the Takeout archive's files onto the shelf."""
    client = tmp_path / "clients" / "les-amis"
    client.mkdir(parents=True)
    with zipfile.ZipFile(client / "takeout.zip", "w") as archive:
        archive.writestr("Takeout/Drive/Rapport.txt", b"rapport annuel")
    typed = "\n".join(["Les Amis", "takeout", "takeout.zip", "shelf", "", "none", "none"]) + "\n"
    alone = {q.key: q for q in scaffold.questions()}["documents_target"]
    assert alone.choices == ("nextcloud",)  # one target: not asked
    with installed(tmp_path / "site"):
        asked = {q.key: q for q in scaffold.questions()}
        assert asked["documents_target"].choices == ("nextcloud", "shelf")
        made = migrate("init", input=typed, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        assert "Where the documents go: Nextcloud or a shelf (shelf)" in made.stdout
        assert "SQLite file of the shelf" in made.stdout
        assert "Nextcloud account" not in made.stdout  # Nextcloud's questions are not asked
        plan = client / "plan.yaml"
        assert "shelf: {type: shelf, path: \"shelf.sqlite\"}" in plan.read_text(encoding="utf-8")
        assert made.stdout.count("export ") == 0  # nothing secret to set
        applied = migrate("apply", plan, "--yes", cwd=tmp_path)
        assert applied.returncode == 0, applied.stdout + applied.stderr
    with sqlite3.connect(client / "shelf.sqlite") as db:
        assert db.execute("SELECT name, content FROM files").fetchall() == [
            ("Rapport.txt", b"rapport annuel")]
