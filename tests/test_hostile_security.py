"""Hostile input cannot escape a connection, follow a link, leak a secret or print raw controls.

Each test is a trigger from issue 14, run through the real command (click's CliRunner, in
process) on real folders.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from migrate.cli import cli
from migrate.plan.references import Redactor
from sandbox.samples_mailing import write_mailchimp_export


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def local_plan(folder: Path, to: str = "dst", extra: str = "") -> Path:
    (folder / "src").mkdir(exist_ok=True)
    plan = folder / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  src: {type: local, path: src}\n"
                    "  dst: {type: local, path: dst}\n" + extra +
                    f"steps:\n  - id: files\n    copy: {{from: src, to: \"{to}\"}}\n",
                    encoding="utf-8")
    return plan


# -- locations stay inside their connection ---------------------------------------------------

@pytest.mark.parametrize("connection, to", [
    ("  dst2: {type: local, path: dst}\n", "dst2:/../../../elsewhere"),
    ("  dav: {type: webdav, url: 'http://127.0.0.1:9/dav/', user: u, password: "
     "'long enough pw'}\n", "dav:/docs/../../.."),
    ("  cloud: {type: nextcloud, url: 'http://127.0.0.1:9', user: u, password: "
     "'long enough pw'}\n", "cloud:..\\\\..\\\\Shared"),
])
def test_a_location_climbing_out_of_its_connection_is_refused_by_validate(
        tmp_path: Path, connection: str, to: str) -> None:
    plan = local_plan(tmp_path, to, connection)
    for command in ("validate", "plan", "apply"):
        result = run(command, plan, *(["--yes"] if command == "apply" else []))
        assert result.exit_code == 1, result.output
        assert "'..' would leave the connection's folder" in result.output
        assert "plan.yaml:" in result.output
    assert not (tmp_path / "elsewhere").exists()


def test_a_member_file_target_refuses_a_climbing_location(tmp_path: Path) -> None:
    write_mailchimp_export(tmp_path / "export.zip")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  audience: {type: mailchimp_export, path: "
                    "export.zip}\n  files: {type: listmonk_csv, path: out}\nsteps:\n"
                    "  - id: lettre\n    export: {from: audience, to: 'files:../../Lettre'}\n",
                    encoding="utf-8")
    result = run("validate", plan)
    assert result.exit_code == 1 and "would leave the connection's folder" in result.output


def test_a_link_inside_the_local_target_is_never_followed(tmp_path: Path) -> None:
    plan = local_plan(tmp_path)
    (tmp_path / "src" / "out").mkdir()
    (tmp_path / "src" / "out" / "file.txt").write_text("payload")
    (tmp_path / "src" / "normal.txt").write_text("normal")
    (tmp_path / "src" / "hop.txt").write_text("hop")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "dst").mkdir()
    os.symlink(outside, tmp_path / "dst" / "out")
    os.symlink(outside / "hop.txt", tmp_path / "dst" / "hop.txt")  # a dangling link
    result = run("apply", plan, "--yes")
    assert result.exit_code == 0, result.output
    assert list(outside.iterdir()) == []
    assert (tmp_path / "dst" / "normal.txt").read_text() == "normal"
    assert os.path.islink(tmp_path / "dst" / "out") and os.path.islink(tmp_path / "dst" / "hop.txt")
    assert "2 skipped" in result.output
    report = run("report", plan).output
    assert "symbolic link" in report


def test_links_pipes_and_sockets_in_a_local_source_are_skipped_with_their_reason(
        tmp_path: Path) -> None:
    plan = local_plan(tmp_path)
    source = tmp_path / "src"
    (source / "real.txt").write_text("real")
    os.symlink("/etc/hostname", source / "link")
    os.mkfifo(source / "pipe")
    if os.geteuid() == 0:  # only root may make a device node
        os.mknod(source / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(source / "sock"))
        result = run("plan", plan, "--json")
    changes = {c["source_path"]: c for c in json.loads(result.output)["changes"]}
    assert changes["real.txt"]["action"] == "create"
    assert "symbolic link" in changes["link"]["reason"]
    assert "named pipe" in changes["pipe"]["reason"]
    assert "socket" in changes["sock"]["reason"]
    if "null" in changes:
        assert "a device" in changes["null"]["reason"]
    assert {changes[n]["action"] for n in ("link", "pipe", "sock")} == {"skip"}


# -- secrets are masked in every form, and refused when too short -----------------------------

def test_masking_covers_every_form_a_secret_takes() -> None:
    redactor = Redactor()
    redactor.add("first-line:s3cr3t@part\nsecond line of it\n")
    for shown in ("'token api:first-line:s3cr3t@part\\nsecond line of it'",  # repr-escaped
                  "first-line%3As3cr3t%40part",  # URL-encoded
                  "user first-line then s3cr3t@part",  # no: 's3cr3t' alone is too short
                  "second line of it"):
        masked = redactor(shown)
        assert "first-line:s3cr3t" not in masked and "second line of it" not in masked
        assert "%3As3cr3t%40" not in masked


def test_a_secret_shorter_than_eight_characters_is_refused(tmp_path: Path) -> None:
    plan = local_plan(tmp_path, extra="  dav: {type: webdav, url: 'http://127.0.0.1:9/', "
                      "user: u, password: '${env:SHORT_PASSWORD}'}\n")
    result = run("validate", plan, env={"SHORT_PASSWORD": "abc12"})
    assert result.exit_code == 1
    assert "fewer than 8 characters" in result.output and "abc12" not in result.output


def test_a_secret_in_an_address_never_shows_even_in_part(tmp_path: Path) -> None:
    secret = "pa/ss:h7Uxyz#frag"
    plan = local_plan(tmp_path, extra="  dav: {type: webdav, url: 'http://alice:${env:S}@"
                      "127.0.0.1:9/dav/', user: u, password: 'long enough pw'}\n")
    plan.write_text(plan.read_text().replace('to: "dst"', 'to: "dav:/x"'))
    for command in ("validate", "plan"):
        result = run(command, plan, env={"S": secret})
        assert result.exit_code == 1, result.output
        assert "Unexpected error" not in result.output
        for piece in ("h7U", "pa/ss", "frag"):
            assert piece not in result.output


def test_a_two_line_secret_file_is_refused_for_a_one_line_setting(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("api-token-line-one\nsecond-line-secret\n")
    plan = local_plan(tmp_path, extra="  dav: {type: webdav, url: 'http://127.0.0.1:9/', "
                      "user: 'u ${file:token.txt}', password: '${file:token.txt}'}\n")
    plan.write_text(plan.read_text().replace('to: "dst"', 'to: "dav:/x"'))
    log = tmp_path / "events.jsonl"
    result = run("apply", plan, "--yes", "--log-json", log)
    assert result.exit_code == 1 and "holds a line break" in result.output
    assert "Unexpected error" not in result.output
    assert "api-token-line-one" not in result.output
    assert "second-line-secret" not in result.output
    if log.exists():
        text = log.read_text()
        assert "api-token-line-one" not in text and "second-line-secret" not in text


# -- saved plans and state folders are private; suppressed addresses are hashed ---------------

def test_a_saved_plan_is_private_and_names_suppressed_people_by_hash_only(
        tmp_path: Path) -> None:
    export = write_mailchimp_export(tmp_path / "export.zip")
    with zipfile.ZipFile(export) as archive:
        unsubscribed = [line.split(",")[0] for name in archive.namelist()
                        if "/unsubscribed_" in name or "/cleaned_" in name
                        for line in archive.read(name).decode().splitlines()[1:] if "@" in line]
    assert unsubscribed
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  audience: {type: mailchimp_export, path: "
                    "export.zip}\n  files: {type: listmonk_csv, path: out}\nsteps:\n"
                    "  - id: lettre\n    export: {from: audience, to: 'files:Lettre'}\n",
                    encoding="utf-8")
    os.umask(0o022)
    saved = tmp_path / "saved.json"
    assert run("plan", plan, "-o", saved).exit_code == 0
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    text = saved.read_text()
    for address in unsubscribed:
        assert address.lower() not in text.lower()
    applied = run("apply", saved)
    assert applied.exit_code == 0, applied.output
    assert stat.S_IMODE((tmp_path / ".migrate").stat().st_mode) == 0o700
    written = "".join(p.read_text() for p in (tmp_path / "out").glob("*.csv"))
    assert any(address.lower() in written.lower() for address in unsubscribed), \
        "the suppressed people must still be blocklisted from the saved plan"


def test_an_existing_state_folder_open_to_others_is_closed(tmp_path: Path) -> None:
    plan = local_plan(tmp_path)
    (tmp_path / "src" / "a.txt").write_text("a")
    (tmp_path / ".migrate").mkdir(mode=0o755)
    os.chmod(tmp_path / ".migrate", 0o755)
    assert run("apply", plan, "--yes").exit_code == 0
    assert stat.S_IMODE((tmp_path / ".migrate").stat().st_mode) == 0o700


# -- names cannot forge lines or repaint the terminal -----------------------------------------

def test_control_characters_in_names_are_escaped_in_everything_printed(tmp_path: Path) -> None:
    plan = local_plan(tmp_path)
    (tmp_path / "src" / "evil\n    + fake.txt").write_text("x")
    (tmp_path / "src" / "ansi\x1b[2Jred\x9b").write_text("x")
    for command in (("plan",), ("apply", "--yes"), ("report",)):
        result = run(*command[:1], plan, *command[1:])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x9b" not in result.output
        assert "\n    + fake.txt" not in result.output
    assert "evil\\u000a    + fake.txt" in run("plan", plan, "--all").output
    assert (tmp_path / "dst" / "evil\n    + fake.txt").read_text() == "x"


def test_the_dav_client_refuses_a_path_climbing_out_of_its_root() -> None:
    from connectors.dav.http import DavHttp
    from migrate.errors import FatalError

    http = DavHttp("http://127.0.0.1:9/remote.php/dav/files/u/", "u", "long enough pw", 1, "")
    assert http.url("Documents/a b.txt") == (
        "http://127.0.0.1:9/remote.php/dav/files/u/Documents/a%20b.txt")
    for escaping in ("../other-user/x", "Documents/../../x", "..\\x"):
        with pytest.raises(FatalError, match="outside the connection's folder"):
            http.url(escaping)


def test_control_characters_in_an_error_message_are_escaped(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text('version: 1\nconnections:\n  src: {type: local, path: "gone\\e[2J\\x9b"}\n'
                    "  dst: {type: local, path: dst}\nsteps:\n  - id: files\n"
                    "    copy: {from: src, to: dst}\n", encoding="utf-8")
    result = run("plan", plan)
    assert result.exit_code == 1 and "does not exist" in result.output
    assert "\x1b" not in result.output and "\x9b" not in result.output
    assert "gone\\u001b[2J\\u009b" in result.output
