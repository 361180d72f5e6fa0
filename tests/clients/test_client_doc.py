"""docs/client.md is true: its examples run against a live provider-mode pod-server.

Every ```python and ```sh block in the tour is marked, on the line before it, either
``<!-- tested -->`` or ``<!-- untested: <why> -->``. The tested Python blocks run in order as one
script, in one namespace that starts with the five names the doc asks readers to replace (ISSUER,
CLIENT_ID, CLIENT_SECRET, POD, WEBID); the tested shell blocks run in order under bash with the
same names as environment variables and the installed ``pod`` on PATH. Both run in a temporary
folder that is also HOME, so the token caches the examples write land there. Untested Python
blocks must still compile.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests import doc_blocks
from tests.access.helpers import make_person
from tests.conftest import LiveServer, _serve
from tests.doc_blocks import Block
from tests.live import REPO

DOC = REPO / "docs" / "client.md"
CHECKED = ("python", "sh")
"""The languages whose blocks must be marked (JSON, Turtle and text blocks show output)."""


def blocks(language: str) -> list[Block]:
    return doc_blocks.blocks(DOC, language)


@dataclass(frozen=True)
class Reader:
    """The person following the tour: the five names the doc asks to replace."""

    server: LiveServer
    issuer: str
    client_id: str
    client_secret: str
    pod: str
    webid: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("client-doc"), single_pod=False)


def reader(server: LiveServer) -> Reader:
    person = make_person(server, "ann")
    made = server.app.extensions["pod_server.accounts"].create_credential(
        person.account_id, person.webid, "doc"
    )
    return Reader(server, server.url, made.client_id, made.client_secret, person.pod, person.webid)


# -- the markers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", CHECKED)
def test_every_example_says_whether_it_is_tested(language: str) -> None:
    unmarked = [block.where for block in blocks(language) if block.mark is None]
    assert not unmarked, f"mark these <!-- tested --> or <!-- untested: why -->: {unmarked}"


def test_most_examples_are_tested() -> None:
    python = blocks("python")
    assert sum(block.tested for block in python) >= 10
    assert [block for block in python if not block.tested] == [
        block for block in python if block.mark and block.mark.startswith("untested")
    ]


@pytest.mark.parametrize("block", blocks("python"), ids=lambda block: block.where)
def test_every_python_example_compiles(block: Block) -> None:
    compile(block.code, block.where, "exec")


# -- running them -----------------------------------------------------------------------------------


def test_the_python_examples_run_in_order(
    server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ann = reader(server)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {
        "__name__": "client_doc",
        "ISSUER": ann.issuer,
        "CLIENT_ID": ann.client_id,
        "CLIENT_SECRET": ann.client_secret,
        "POD": ann.pod,
        "WEBID": ann.webid,
    }
    for block in blocks("python"):
        if block.tested:
            # A blank line per doc line before the block: tracebacks name the doc's own lines.
            exec(compile("\n" * (block.line - 1) + block.code, str(DOC), "exec"), namespace)
    printed = capsys.readouterr().out

    # What the tour says happened, checked without pod_client where it matters.
    todo = ann.pod + "notes/todo.ttl"
    assert f"Update {todo}\n" in printed
    assert "412 " in printed
    assert "b'Holiday pictures' text/plain" in printed
    assert "404 " + ann.pod + "no/such/thing.ttl" in printed
    assert printed.splitlines()[0] == ann.webid
    assert (tmp_path / "copy.jpg").read_bytes() == (tmp_path / "photo.jpg").read_bytes()
    assert not (tmp_path / ".config" / "my-app" / "session.json").exists()  # logged out
    public = requests.get(ann.pod + "notes/todo.ttl", headers={"Accept": "text/turtle"}, timeout=10)
    assert public.status_code == 401  # private: the tour never opened notes/
    shared = requests.get(ann.pod + "shared/", headers={"Accept": "text/turtle"}, timeout=10)
    assert shared.status_code == 401  # the public's Read was revoked again
    assert requests.head(ann.pod + "photos/", timeout=10).status_code in (401, 404)


def test_the_shell_examples_run_in_order(server: LiveServer, tmp_path: Path) -> None:
    ann = reader(server)
    scripts = Path(sys.executable).parent  # where pip put `pod`
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("POD_") and key != "XDG_CONFIG_HOME"
    }
    env.update(
        HOME=str(tmp_path),
        PATH=f"{scripts}{os.pathsep}{env.get('PATH', '')}",
        ISSUER=ann.issuer,
        CLIENT_ID=ann.client_id,
        CLIENT_SECRET=ann.client_secret,
        POD=ann.pod,
        WEBID=ann.webid,
    )
    out = ""
    for block in blocks("sh"):
        if not block.tested:
            continue
        done = doc_blocks.run_shell(block.code, env=env, cwd=tmp_path, where=block.where)
        out += done.stdout

    assert f"Logged in as {ann.webid} (at {ann.issuer}).\n" in out
    saved = tmp_path / ".config" / "pod" / "session.json"  # the default place
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert ann.client_secret not in out and ann.client_secret not in saved.parent.name
    assert "exit code 5\n" in out
    assert (tmp_path / "backup" / "2024" / "beach.jpg").read_bytes() == b"not really a JPEG"
    assert "agent https://bob.example/profile/card#me: Read, Append (default for members)\n" in out
    assert '<#it> ex:says "hello" .\n' in out  # pod cat, as stored
    assert '"http://example.org/says"' in out  # pod cat --format jsonld
