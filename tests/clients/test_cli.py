"""The ``pod`` command line against a live provider-mode pod-server: every command's happy path and
its ``--json`` output, ``cp`` in every direction (and resumed), and the exit code of every error.

Alice and Bob log in with ``pod login --client-id ... --client-secret ...`` (client credentials the
server's account directory issues); "nobody" is a session file that does not exist (the public).
Test-side checks of what the pod holds use tests/access/helpers.py's agents, not pod_client.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pty
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from pod_client.cli import EXIT_CODES, cli
from rdflib import Graph, Literal, URIRef

from tests.access.helpers import TURTLE, Agent
from tests.clients.cli_runner import User, cli_user, run, run_json
from tests.conftest import LiveServer, _serve
from tests.idp.helpers import consent, follow_to, query_of
from tests.idp.helpers import log_in as idp_log_in

SAYS = URIRef("http://example.org/says")
PASSWORD = "correct horse battery staple"  # what make_person registers with
DOC = b'@prefix ex: <http://example.org/> .\n\n<#it> ex:says "hello" .\n'


@dataclass
class World:
    server: LiveServer
    alice: User
    bob: User
    nobody: Path  # no saved session: the public


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("pod-cli")
    for server in _serve(folder / "data", single_pod=False):
        yield World(
            server, cli_user(server, "alice", folder), cli_user(server, "bob", folder), folder / "none.json"
        )


# -- sessions ---------------------------------------------------------------------------------------


def test_login_saves_a_private_session_and_never_prints_tokens(world: World, tmp_path: Path) -> None:
    alice = world.alice
    session = tmp_path / "sub" / "session.json"
    result = run(
        session, "--json", "login", "--issuer", world.server.url,
        "--client-id", alice.client_id, "--client-secret", alice.client_secret,
    )  # fmt: skip
    made = json.loads(result.stdout)
    assert made == {
        "webid": alice.person.webid,
        "issuer": world.server.url,
        "client_id": alice.client_id,
        "session": str(session),
    }
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    saved = json.loads(session.read_text())
    secrets = [saved["access_token"], alice.client_secret]
    assert all(secret and secret not in result.output for secret in secrets)

    who = run(session, "whoami")
    assert who.stdout.splitlines()[0] == alice.person.webid
    assert all(secret not in who.output for secret in secrets)
    assert run_json(session, "whoami") == {
        "webid": alice.person.webid,
        "issuer": world.server.url,
        "client_id": alice.client_id,
    }


def test_the_issuer_is_remembered_and_the_secret_asked_for(world: World, tmp_path: Path) -> None:
    alice, session = world.alice, tmp_path / "session.json"
    run(session, "login", "--issuer", world.server.url, "--client-id", alice.client_id,
        input=alice.client_secret + "\n")  # fmt: skip
    result = run(session, "login", "--client-id", alice.client_id, "--client-secret", alice.client_secret)
    assert result.stdout == f"Logged in as {alice.person.webid} (at {world.server.url}).\n"
    assert alice.client_secret not in result.output


def test_logout_forgets_the_session(world: World, tmp_path: Path) -> None:
    alice, session = world.alice, tmp_path / "session.json"
    run(session, "login", "--issuer", world.server.url, "--client-id", alice.client_id,
        "--client-secret", alice.client_secret)  # fmt: skip
    assert run_json(session, "logout") == {"logged_out": True, "webid": alice.person.webid}
    assert not session.exists()
    assert run(session, "whoami", code=3).stderr.startswith("pod: not logged in")
    assert run(session, "logout").stdout == "Not logged in.\n"
    # Forgotten with the session: the issuer must be given again.
    assert "--issuer" in run(session, "login", "--client-id", alice.client_id, code=2).stderr


def test_login_errors(world: World, tmp_path: Path) -> None:
    session = tmp_path / "session.json"
    wrong = run(session, "login", "--issuer", world.server.url, "--client-id", world.alice.client_id,
                "--client-secret", "not the secret", code=EXIT_CODES[401])  # fmt: skip
    assert wrong.stderr.startswith("pod: not authenticated (401): ")
    assert not session.exists()
    assert run(session, "login", "--client-secret", "x", "--issuer", world.server.url, code=2)


def test_a_session_file_others_may_read_is_refused(world: World, tmp_path: Path) -> None:
    session = tmp_path / "session.json"
    shutil.copy(world.alice.session, session)
    session.chmod(0o644)
    result = run(session, "ls", world.alice.pod, code=1)
    assert "chmod 600" in result.stderr


def test_interactive_login_in_the_installed_script(world: World, tmp_path: Path) -> None:
    """`pod login --no-browser` prints the login URL; a person (played by requests) logs in and
    consents; the provider's redirect reaches the command's listener, which saves the session."""
    session = tmp_path / "session.json"
    login = subprocess.Popen(
        [_pod_script(), "--session", str(session), "login", "--issuer", world.server.url, "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert login.stderr is not None
        line = login.stderr.readline()
        assert line.startswith("Log in at: "), line
        url = line.removeprefix("Log in at: ").strip()
        redirect_uri = query_of(url)["redirect_uri"]
        assert redirect_uri.startswith("http://127.0.0.1:")
        with requests.Session() as browser:
            assert (
                idp_log_in(browser, world.server.url, world.alice.person.email, PASSWORD).status_code == 303
            )
            page = follow_to(browser, url, redirect_uri)
            answer = consent(browser, page) if page.status_code == 200 else page
            assert requests.get(answer.headers["Location"], timeout=10).status_code == 200
        out, err = login.communicate(timeout=30)
    finally:
        if login.poll() is None:
            login.kill()
            login.wait()
    assert login.returncode == 0, err
    assert out == f"Logged in as {world.alice.person.webid} (at {world.server.url}).\n"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert run(session, "whoami").stdout.splitlines()[0] == world.alice.person.webid
    assert run(session, "ls", world.alice.pod).exit_code == 0


# -- reading and writing ----------------------------------------------------------------------------


def test_put_cat_and_ls(world: World, tmp_path: Path) -> None:
    alice, folder = world.alice, world.alice.fresh()
    local = tmp_path / "card.ttl"
    local.write_bytes(DOC)
    put = run_json(alice.session, "put", folder + "card.ttl", str(local))
    assert put == {
        "url": folder + "card.ttl",
        "content_type": "text/turtle",
        "size": len(DOC),
        "etag": put["etag"],  # type: ignore[index]
    }
    assert alice.agent.get(folder + "card.ttl").headers["Content-Type"].startswith("text/turtle")
    # Into a container: the file's own name. From stdin: --content-type.
    run(alice.session, "put", folder, str(local))
    stdin = run(alice.session, "put", folder + "note", "-", "--content-type", "text/plain", input=b"hi there")
    assert stdin.stdout == f"Wrote {folder}note (text/plain, 8 bytes).\n"

    assert run(alice.session, "cat", folder + "card.ttl").stdout_bytes == DOC
    assert run(alice.session, "cat", folder + "note").stdout_bytes == b"hi there"
    expected = Graph().parse(data=DOC, format="turtle", publicID=folder + "card.ttl")
    for fmt, parser in (("turtle", "turtle"), ("jsonld", "json-ld"), ("ntriples", "nt")):
        out = run(alice.session, "cat", folder + "card.ttl", "--format", fmt).stdout
        got = Graph().parse(data=out, format=parser, publicID="http://elsewhere.example/")
        assert set(got) == set(expected) == {(URIRef(folder + "card.ttl#it"), SAYS, Literal("hello"))}, fmt
    not_rdf = run(alice.session, "cat", folder + "note", "--format", "turtle")
    assert not_rdf.stdout == "hi there" and "not RDF: printed as it is" in not_rdf.stderr
    binary = tmp_path / "bytes.bin"
    binary.write_bytes(bytes(range(256)))
    run(alice.session, "put", folder + "bytes.bin", str(binary))
    assert run_json(alice.session, "cat", folder + "bytes.bin") == {
        "url": folder + "bytes.bin",
        "content_type": "application/octet-stream",
        "base64": base64.b64encode(bytes(range(256))).decode(),
    }
    assert run(alice.session, "cat", folder + "bytes.bin").stdout_bytes == bytes(range(256))
    run(alice.session, "rm", folder + "bytes.bin")
    assert run_json(alice.session, "cat", folder + "note") == {
        "url": folder + "note",
        "content_type": "text/plain",
        "text": "hi there",
    }

    assert run(alice.session, "ls", folder).stdout == "card.ttl\nnote\n"
    long = run(alice.session, "ls", "-l", folder).stdout.splitlines()
    assert long[0].split()[0] == str(len(DOC)) and long[0].split()[-2:] == ["text/turtle", "card.ttl"]
    assert long[1].split()[0] == "8" and long[1].split()[-2:] == ["text/plain", "note"]
    listed = run_json(alice.session, "ls", folder)
    assert listed["url"] == folder  # type: ignore[index]
    entries = {e["name"]: e for e in listed["entries"]}  # type: ignore[index]
    assert entries["note"]["size"] == 8 and entries["note"]["container"] is False
    assert entries["note"]["url"] == folder + "note" and entries["note"]["modified"]
    one = run_json(alice.session, "ls", folder + "note")["entries"]  # type: ignore[index]
    assert [(e["name"], e["size"], e["content_type"]) for e in one] == [("note", 8, "text/plain")]


def test_put_if_match(world: World, tmp_path: Path) -> None:
    alice, url = world.alice, world.alice.fresh() + "doc.ttl"
    local = tmp_path / "doc.ttl"
    local.write_bytes(DOC)
    etag = run_json(alice.session, "put", url, str(local))["etag"]  # type: ignore[index]
    changed = run_json(alice.session, "put", url, str(local), "--if-match", str(etag))
    stale = run(alice.session, "put", url, str(local), "--if-match", str(etag), code=EXIT_CODES[412])
    assert stale.stderr.startswith("pod: precondition failed (412): ")
    assert "read it again" in stale.stderr
    run(alice.session, "put", url, str(local), "--if-match", "WRONG", code=7)
    run(alice.session, "put", url, str(local), "--if-match", "*", code=2)
    run(alice.session, "put", url, str(local), "--if-match", changed["etag"])  # type: ignore[index]


def test_mkdir_and_rm(world: World) -> None:
    alice, base = world.alice, world.alice.fresh()
    made = run_json(alice.session, "mkdir", base + "a/b")
    assert made == {"created": base + "a/b/"}
    assert alice.agent.head(base + "a/b/").status_code == 200
    run(alice.session, "mkdir", base + "a/b/")  # already there: fine

    # A container: asked first; "n" deletes nothing.
    declined = run(alice.session, "rm", base + "a/b/", input="n\n", code=1)
    assert "Delete container" in declined.stderr and "nothing deleted" in declined.stderr
    assert alice.agent.head(base + "a/b/").status_code == 200
    assert run_json(alice.session, "rm", base + "a/b/", "-y") == {
        "deleted": base + "a/b/",
        "recursive": False,
    }
    assert alice.agent.head(base + "a/b/").status_code == 404

    assert alice.agent.put(base + "a/c/file.ttl", DOC).status_code == 201
    # Not empty, without -r: refused before asking, and by the server itself with -y (409).
    early = run(alice.session, "rm", base + "a/", code=EXIT_CODES[409])
    assert early.stderr.startswith("pod: conflict") and "-r" in early.stderr and "Delete" not in early.stderr
    server = run(alice.session, "rm", base + "a/", "-y", code=6)
    assert server.stderr.startswith("pod: conflict (409): ") and "not empty" in server.stderr
    assert alice.agent.head(base + "a/c/file.ttl").status_code == 200

    # A plain resource is not asked about; -r with "y" takes a container and all in it.
    assert run(alice.session, "rm", base + "a/c/file.ttl").stdout == f"Deleted {base}a/c/file.ttl\n"
    assert alice.agent.put(base + "a/c/file.ttl", DOC).status_code == 201
    run(alice.session, "rm", "-r", base + "a/", input="y\n")
    assert alice.agent.head(base + "a/").status_code == 404
    run(alice.session, "ls", base + "a/", code=5)


# -- copying ----------------------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under ``root``, by relative path."""
    return {
        str(path.relative_to(root)): (None if path.is_dir() else path.read_bytes())
        for path in sorted(root.rglob("*"))
    }


def test_cp_recursive_both_ways_pod_to_pod_and_resumed(world: World, tmp_path: Path) -> None:
    alice = world.alice
    source = tmp_path / "photos"
    (source / "2024" / "may").mkdir(parents=True)
    (source / "empty").mkdir()
    (source / "notes.ttl").write_bytes(DOC)
    (source / "2024" / "a b.bin").write_bytes(bytes(range(256)) * 40)
    (source / "2024" / "may" / "c.txt").write_bytes(b"sunny")
    (source / "notes.ttl.acl").write_bytes(b"# would replace the target's access rules")
    target = alice.fresh() + "photos/"

    up = run_json(alice.session, "cp", "-r", str(source), target)
    assert sorted(t["to"] for t in up["copied"]) == [  # type: ignore[index]
        target + "2024/a%20b.bin",
        target + "2024/may/c.txt",
        target + "notes.ttl",
    ]
    assert up["bytes"] == len(DOC) + 10240 + 5 and up["skipped"] == []  # type: ignore[index]
    assert target + "empty/" in up["created"]  # type: ignore[index]
    assert alice.agent.get(target + "2024/a%20b.bin").content == bytes(range(256)) * 40
    assert alice.agent.get(target + "notes.ttl").headers["Content-Type"].startswith("text/turtle")
    assert alice.agent.head(target + "empty/").status_code == 200
    assert b"would replace" not in alice.agent.get(target + "notes.ttl.acl").content
    again = run_json(alice.session, "cp", "-r", str(source), target)
    assert again["copied"] == [] and len(again["skipped"]) == 3  # type: ignore[index]
    assert run(alice.session, "cp", "-r", str(source), target).stdout == (
        "Copied 0 files (0 bytes); skipped 3 already there with the same size.\n"
    )

    down = tmp_path / "down"
    copied = run_json(alice.session, "cp", "-r", target, str(down))
    assert len(copied["copied"]) == 3  # type: ignore[index]
    assert _tree(down) == {k: v for k, v in _tree(source).items() if not k.endswith(".acl")}
    assert run_json(alice.session, "cp", "-r", target, str(down))["copied"] == []  # type: ignore[index]
    # Resuming copies only what differs: a changed size.
    (down / "2024" / "may" / "c.txt").write_bytes(b"cloudy!")
    fixed = run_json(alice.session, "cp", "-r", target, str(down))
    assert [t["to"] for t in fixed["copied"]] == [str(down / "2024" / "may" / "c.txt")]  # type: ignore[index]
    assert (down / "2024" / "may" / "c.txt").read_bytes() == b"sunny"
    assert not list(down.rglob("*.pod-part"))

    other = world.alice.fresh() + "copy/"
    across = run_json(alice.session, "cp", "-r", target, other)
    assert len(across["copied"]) == 3  # type: ignore[index]
    assert alice.agent.get(other + "2024/may/c.txt").content == b"sunny"
    assert alice.agent.get(other + "notes.ttl").headers["Content-Type"].startswith("text/turtle")
    assert run_json(alice.session, "cp", "-r", target, other)["copied"] == []  # type: ignore[index]
    back = tmp_path / "back"
    run(alice.session, "cp", "-r", other, str(back))
    assert _tree(back) == _tree(down)


def test_cp_single_files(world: World, tmp_path: Path) -> None:
    alice, folder = world.alice, world.alice.fresh()
    local = tmp_path / "one.txt"
    local.write_bytes(b"one")
    assert run(alice.session, "cp", str(local), folder).stdout == "Copied 1 file (3 bytes).\n"
    assert alice.agent.get(folder + "one.txt").content == b"one"
    assert run_json(alice.session, "cp", str(local), folder + "one.txt")["copied"] == []  # type: ignore[index]
    run(alice.session, "cp", folder + "one.txt", folder + "two.txt")
    (tmp_path / "in").mkdir()
    run(alice.session, "cp", folder + "two.txt", str(tmp_path / "in"))
    assert (tmp_path / "in" / "two.txt").read_bytes() == b"one"
    run(alice.session, "cp", folder + "two.txt", str(tmp_path / "renamed.txt"))
    assert (tmp_path / "renamed.txt").read_bytes() == b"one"


def test_cp_usage_errors(world: World, tmp_path: Path) -> None:
    alice = world.alice
    assert "-r" in run(alice.session, "cp", str(tmp_path), alice.fresh(), code=2).stderr
    assert "-r" in run(alice.session, "cp", alice.fresh(), str(tmp_path / "x"), code=2).stderr
    assert "pod URL" in run(alice.session, "cp", str(tmp_path), str(tmp_path / "x"), code=2).stderr
    run(alice.session, "cp", alice.pod + "missing.txt", str(tmp_path / "x"), code=5)
    run(alice.session, "cp", "-r", alice.pod + "missing/", str(tmp_path / "x"), code=5)


# -- access control ---------------------------------------------------------------------------------


def test_acl_grant_show_revoke(world: World) -> None:
    alice, bob = world.alice, world.bob
    url = alice.fresh() + "doc.ttl"
    assert alice.agent.put(url, DOC, TURTLE).status_code == 201
    run(bob.session, "cat", url, code=4)

    granted = run_json(
        alice.session, "acl", "grant", url, "--agent", bob.person.webid, "-m", "read", "-m", "WRITE"
    )
    assert granted == {
        "url": url,
        "granted": ["Read", "Write"],
        "subject": f"agent {bob.person.webid}",
        "app": None,
    }
    assert run(bob.session, "cat", url).stdout_bytes == DOC
    rules = run_json(alice.session, "acl", "show", url)["rules"]  # type: ignore[index]
    assert {"subject": f"agent {bob.person.webid}", "modes": ["Read", "Write"], "default": False} in rules
    assert f"agent {bob.person.webid}: Read, Write" in run(alice.session, "acl", "show", url).stdout

    revoked = run(alice.session, "acl", "revoke", url, "--agent", bob.person.webid, "-m", "write")
    assert revoked.stdout == f"Revoked Write on {url} from agent {bob.person.webid}.\n"
    assert bob.agent.get(url).status_code == 200 and bob.agent.put(url, DOC).status_code == 403
    run(alice.session, "acl", "revoke", url, "--agent", bob.person.webid)
    run(bob.session, "cat", url, code=4)

    # Through one app only: bob's `pod` session (its client id) reads, bob through another app does not.
    through = run_json(
        alice.session, "acl", "grant", url, "--agent", bob.person.webid, "--app", bob.client_id, "-m", "read"
    )
    assert through["app"] == bob.client_id  # type: ignore[index]
    assert run(bob.session, "cat", url).stdout_bytes == DOC
    assert bob.agent.get(url).status_code == 403
    assert run_json(
        alice.session, "acl", "revoke", url, "--agent", bob.person.webid, "--app", bob.client_id
    ) == {
        "url": url,
        "revoked": ["Read", "Write", "Append", "Control"],
        "subject": f"agent {bob.person.webid}",
        "app": bob.client_id,
    }
    run(bob.session, "cat", url, code=4)

    run(world.nobody, "cat", url, code=3)
    run(alice.session, "acl", "grant", url, "--public", "-m", "read")
    assert run(world.nobody, "cat", url).stdout_bytes == DOC
    assert "public: Read" in run(alice.session, "acl", "show", url).stdout


def test_acl_usage_errors(world: World) -> None:
    alice, url = world.alice, world.alice.fresh()
    who = run(alice.session, "acl", "grant", url, "--public", "--authenticated", "-m", "read", code=2)
    assert "exactly one of" in who.stderr or "one of --agent" in who.stderr
    run(alice.session, "acl", "grant", url, "-m", "read", code=2)
    assert "-m read" in run(alice.session, "acl", "grant", url, "--public", code=2).stderr
    run(alice.session, "acl", "grant", url, "--public", "-m", "fly", code=2)


# -- errors -----------------------------------------------------------------------------------------


def test_error_exit_codes_and_messages(world: World) -> None:
    alice, bob = world.alice, world.bob
    private = alice.fresh() + "secret.ttl"
    assert alice.agent.put(private, DOC, TURTLE).status_code == 201

    anonymous = run(world.nobody, "cat", private, code=3)
    assert anonymous.stderr.startswith("pod: not authenticated (401): ") and "pod login" in anonymous.stderr
    forbidden = run(bob.session, "cat", private, code=4)
    detail = bob.agent.get(private).json()["detail"]  # the server's own words (RFC 9457)
    assert forbidden.stderr.startswith(f"pod: not allowed (403): {detail}")
    missing = run(alice.session, "cat", alice.pod + "nothing-here.ttl", code=5)
    assert missing.stderr.startswith("pod: not found (404): ")
    run(bob.session, "put", alice.pod + "bob-was-here.txt", "-", input=b"x", code=4)
    run(world.nobody, "ls", alice.pod, code=3)
    run(bob.session, "rm", private, code=4)

    error = run_json(bob.session, "cat", private, code=4)
    assert error["error"]["status"] == 403 and error["error"]["exit_code"] == 4  # type: ignore[index]
    assert error["error"]["url"] == private and error["error"]["message"] == detail  # type: ignore[index]


# -- queries ----------------------------------------------------------------------------------------

PUBLIC_ACL = """@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#owner> a acl:Authorization; acl:agent <{webid}>; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Read, acl:Write, acl:Control.
<#public> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Read.
"""


def _says_in(folder: str) -> str:
    return (
        "SELECT ?doc ?says WHERE { GRAPH ?doc { ?s <http://example.org/says> ?says } "
        f'FILTER(STRSTARTS(STR(?doc), "{folder}")) }} ORDER BY ?doc'
    )


def _public_folder(user: User, says: str) -> str:
    """A new container anyone may read, holding one document that says ``says``."""
    folder = user.fresh()
    acl = PUBLIC_ACL.format(webid=user.person.webid)
    assert user.agent.put(folder + ".acl", acl, TURTLE).status_code in (201, 204)
    doc = f'@prefix ex: <http://example.org/> .\n<#it> ex:says "{says}" .\n'.encode()
    assert user.agent.put(folder + "doc.ttl", doc, TURTLE).status_code == 201
    return folder


def test_query_the_endpoint_as_a_table_json_and_csv(world: World) -> None:
    alice, bob = world.alice, world.bob
    folder = alice.fresh()
    assert alice.agent.put(folder + "secret.ttl", DOC, TURTLE).status_code == 201
    sparql = _says_in(folder)

    table = run(alice.session, "query", "--pod", alice.pod, sparql).stdout
    width = len(folder + "secret.ttl")
    assert table == (
        f"{'?doc'.ljust(width)}  ?says\n{'-' * width}  -----\n{folder}secret.ttl  hello\n(1 row)\n"
    )
    assert run(alice.session, "query", sparql).stdout == table  # without --pod: your own pod
    answer = run_json(alice.session, "query", "--pod", alice.pod + "profile/card", sparql)
    assert answer == {
        "head": {"vars": ["doc", "says"]},
        "results": {
            "bindings": [
                {
                    "doc": {"type": "uri", "value": folder + "secret.ttl"},
                    "says": {"type": "literal", "value": "hello"},
                }
            ]
        },
    }
    endpoint = alice.pod + ".well-known/sparql"
    csv_out = run(alice.session, "query", "--endpoint", endpoint, "--format", "csv", sparql).stdout_bytes
    assert csv_out == f"doc,says\r\n{folder}secret.ttl,hello\r\n".encode()  # RFC 4180 line ends
    # Bob asks the same endpoint: the private document is not in his dataset.
    assert run(bob.session, "query", "--endpoint", endpoint, sparql).stdout.endswith("(0 rows)\n")
    ask = f'ASK {{ GRAPH <{folder}secret.ttl> {{ ?s ?p "hello" }} }}'
    assert run(alice.session, "query", "--endpoint", endpoint, ask).stdout == "true\n"
    assert run(bob.session, "query", "--endpoint", endpoint, ask).stdout == "false\n"
    assert run_json(bob.session, "query", "--endpoint", endpoint, ask) == {"head": {}, "boolean": False}


def test_query_a_graph_from_a_file_or_stdin(world: World, tmp_path: Path) -> None:
    alice = world.alice
    folder = alice.fresh()
    assert alice.agent.put(folder + "doc.ttl", DOC, TURTLE).status_code == 201
    construct = (
        f"CONSTRUCT {{ ?s <http://example.org/said> ?o }} WHERE {{ GRAPH <{folder}doc.ttl> "
        "{ ?s <http://example.org/says> ?o } }"
    )
    (tmp_path / "q.rq").write_text(construct, encoding="utf-8")
    expected = {(URIRef(folder + "doc.ttl#it"), URIRef("http://example.org/said"), Literal("hello"))}
    turtle = run(alice.session, "query", "-f", str(tmp_path / "q.rq"), "--pod", alice.pod).stdout
    assert set(Graph().parse(data=turtle, format="turtle")) == expected
    jsonld = run(alice.session, "--json", "query", "-f", "-", "--pod", alice.pod, input=construct).stdout
    assert set(Graph().parse(data=jsonld, format="json-ld")) == expected


def test_query_on_your_side_across_two_pods(world: World) -> None:
    alice, bob = world.alice, world.bob
    theirs, mine = _public_folder(alice, "from alice"), _public_folder(bob, "from bob")
    private = alice.fresh() + "secret.ttl"
    assert alice.agent.put(private, DOC, TURTLE).status_code == 201
    sparql = "SELECT ?says WHERE { ?s <http://example.org/says> ?says } ORDER BY ?says"
    args = ("query", sparql, "--source", theirs, "--source", mine, "--source", private)
    result = run(bob.session, *args)
    assert result.stdout == "?says\n----------\nfrom alice\nfrom bob\n(2 rows)\n"
    assert result.stderr.startswith("pod: queried 2 documents; skipped 1 (1 not readable)\n")
    assert f"  skipped 403 {private}: " in result.stderr
    answer = run_json(bob.session, *args)
    assert [b["says"]["value"] for b in answer["results"]["bindings"]] == ["from alice", "from bob"]  # type: ignore[index]
    assert sorted(answer["sources"]["documents"]) == sorted([theirs + "doc.ttl", mine + "doc.ttl"])  # type: ignore[index]
    assert [(s["url"], s["status"]) for s in answer["sources"]["skipped"]] == [(private, 403)]  # type: ignore[index]
    # The public reads the same public documents; Alice reads her own private one too.
    assert run(world.nobody, *args).stdout.endswith("(2 rows)\n")
    assert run(alice.session, *args).stdout.endswith("from alice\nfrom bob\nhello\n(3 rows)\n")


def test_query_usage_errors_and_refusals(world: World, tmp_path: Path) -> None:
    alice, pod = world.alice, world.alice.pod
    (tmp_path / "q.rq").write_text("ASK {}", encoding="utf-8")
    for args in (
        ["query"],  # no query
        ["query", "ASK {}", "-f", str(tmp_path / "q.rq"), "--pod", pod],  # two queries
        ["query", "ASK {}", "--pod", pod, "--endpoint", pod + ".well-known/sparql"],
        ["query", "ASK {}", "--pod", pod, "--source", pod],
        ["query", "ASK {}", "--pod", pod, "--format", "turtle"],  # a boolean is no graph
        ["query", "CONSTRUCT WHERE { ?s ?p ?o }", "--pod", pod, "--format", "csv"],
        ["--json", "query", "ASK {}", "--pod", pod, "--format", "csv"],
    ):
        run(alice.session, *args, code=2)
    assert "say where" in run(world.nobody, "query", "ASK {}", code=2).stderr  # no login, no --pod
    from_clause = "SELECT * FROM <http://example.org/x> WHERE { ?s ?p ?o }"
    refused = run(alice.session, "query", from_clause, code=EXIT_CODES[422])
    assert refused.stderr.startswith("pod: refused content (422): FROM <http://example.org/x> names a")
    bad = run_json(alice.session, "query", "SELECT * WHERE {", code=1)
    assert bad["error"]["status"] == 400 and "not valid SPARQL" in bad["error"]["message"]  # type: ignore[index]
    local = run(alice.session, "query", "SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }",
                "--source", pod, code=1)  # fmt: skip
    assert local.stderr.startswith("pod: SERVICE <http://example.org/> would query another endpoint")
    private = alice.fresh()
    assert (
        "found no SPARQL endpoint"
        in run(world.bob.session, "query", "ASK {}", "--pod", private, code=1).stderr
    )


def test_help_documents_the_exit_codes() -> None:
    text = CliRunner().invoke(cli, ["--help"]).stdout
    for status, code in EXIT_CODES.items():
        assert f"  {code}  {status} " in text
    for command in (
        "login",
        "logout",
        "whoami",
        "ls",
        "cat",
        "put",
        "rm",
        "mkdir",
        "cp",
        "acl",
        "watch",
        "query",
    ):
        assert f"  {command} " in text
    cp_help = CliRunner().invoke(cli, ["cp", "--help"]).stdout
    assert "same size is skipped" in cp_help.replace("\n", " ").replace("  ", " ")


# -- notifications ----------------------------------------------------------------------------------


def _keep_changing(agent: Agent, url: str, stop: threading.Event) -> None:
    n = 0
    while not stop.wait(0.2):
        n += 1
        agent.put(url, DOC + f"<#n> <http://example.org/n> {n} .\n".encode(), TURTLE)


def test_watch_prints_notifications_as_json_lines(world: World) -> None:
    alice = world.alice
    url = alice.fresh() + "watched.ttl"
    assert alice.agent.put(url, DOC, TURTLE).status_code == 201
    stop = threading.Event()
    changer = threading.Thread(target=_keep_changing, args=(alice.agent, url, stop), daemon=True)
    changer.start()
    try:
        result = run(alice.session, "--json", "watch", url, "-n", "2")
    finally:
        stop.set()
        changer.join(5)
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        event = json.loads(line)
        assert event["object"] == url and "Update" in str(event["type"])


# -- the installed `pod` script ---------------------------------------------------------------------


def _pod_script() -> str:
    beside = Path(sys.executable).parent / "pod"
    found = str(beside) if beside.exists() else shutil.which("pod")
    if found is None:
        pytest.fail("the `pod` console script is not installed (pip install -e .)")
    return found


def test_the_installed_script(world: World, tmp_path: Path) -> None:
    alice, pod = world.alice, _pod_script()
    env = {**os.environ, "POD_SESSION": str(tmp_path / "session.json")}
    done = subprocess.run(
        [pod, "login", "--issuer", world.server.url, "--client-id", alice.client_id],
        input=alice.client_secret + "\n", env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert alice.client_secret not in done.stdout + done.stderr
    folder = alice.fresh()
    (tmp_path / "a.ttl").write_bytes(DOC)
    for args, code in (
        (["put", folder + "a.ttl", str(tmp_path / "a.ttl")], 0),
        (["cat", folder + "missing"], 5),
        (["--session", str(world.bob.session), "cat", folder + "a.ttl"], 4),
        (["query"], 2),
        (["query", "ASK { ?s ?p ?o }", "--source", folder], 0),
    ):
        done = subprocess.run([pod, *args], env=env, capture_output=True, timeout=60)
        assert done.returncode == code, (args, done.stderr)
    listed = subprocess.run(
        [pod, "--json", "ls", folder], env=env, capture_output=True, text=True, timeout=60
    )
    assert [e["name"] for e in json.loads(listed.stdout)["entries"]] == ["a.ttl"]
    version = subprocess.run([pod, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("pod, version ")


def test_cp_shows_a_progress_bar_on_a_terminal(world: World, tmp_path: Path) -> None:
    """stderr a terminal (a pseudo-terminal here): a click progress bar; with --json: none."""
    alice = world.alice
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(1 << 20))
    outputs = []
    for json_flag in ([], ["--json"]):
        controller, terminal = pty.openpty()
        try:
            command = [_pod_script(), "--session", str(alice.session), *json_flag]
            done = subprocess.run(
                [*command, "cp", str(source), alice.fresh()],
                stdout=subprocess.PIPE,
                stderr=terminal,
                timeout=60,
            )
            os.close(terminal)
            seen = b""
            with contextlib.suppress(OSError):  # EIO: the terminal's other end has closed
                while chunk := os.read(controller, 4096):
                    seen += chunk
        finally:
            os.close(controller)
        assert done.returncode == 0, seen
        outputs.append(seen.decode())
    assert "100%" in outputs[0] and "big.bin" in outputs[0]
    assert outputs[1] == ""


def test_watch_in_the_installed_script(world: World, tmp_path: Path) -> None:
    alice = world.alice
    url = alice.fresh() + "watched.ttl"
    assert alice.agent.put(url, DOC, TURTLE).status_code == 201
    watcher = subprocess.Popen(
        [_pod_script(), "--session", str(alice.session), "watch", url, "--count", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert watcher.stderr is not None and watcher.stdout is not None
        assert watcher.stderr.readline() == f"Watching {url} (Ctrl-C to stop)\n"
        assert alice.agent.put(url, DOC + b"<#it> <http://example.org/n> 1 .\n", TURTLE).status_code in (
            204,
            205,
        )
        out, err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert watcher.returncode == 0, err
    published, kind, target = out.strip().split(" ")
    assert kind == "Update" and target == url and published[:2] == "20"
