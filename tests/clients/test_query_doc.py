"""docs/query.md is true: its examples run against a live provider-mode pod-server.

Every ```python, ```sh and ```js block is marked, on the line before it, ``<!-- tested -->`` or
``<!-- untested: <why> -->``. The tested blocks of each language run in order as one program
against two pods this test makes, holding the four book documents the page describes: Ann's (the
reader's: ISSUER, CLIENT_ID, CLIENT_SECRET, POD, WEBID) and Ben's (FRIEND_POD). Python runs in one
namespace that starts with those names; shell blocks run under bash with them in the environment
and the installed ``pod`` on PATH; the JavaScript blocks run as one ES module under Node.js with
them as constants, using the Comunica and Inrupt packages tests/interop installs. The outputs are
checked against what the page shows (with the pods' real URLs for the example ones).

The "Limits and refusals" table is checked against the server's own numbers, so a changed limit
shows up here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pod_server.config import Settings
from pod_server.query import guard
from tests import doc_blocks
from tests.access.helpers import Agent, Person, log_in, make_person
from tests.conftest import LiveServer, _serve
from tests.doc_blocks import Block
from tests.live import REPO

DOC = REPO / "docs" / "query.md"
CHECKED = ("python", "sh", "js")
"""The languages whose blocks must be marked (text, JSON and Turtle blocks show output)."""
INTEROP = REPO / "tests" / "interop" / "node_modules"
JS_PACKAGES = ("@comunica/query-sparql", "@inrupt/solid-client-authn-node")

SCHEMA = "@prefix schema: <http://schema.org/> .\n"
ACL_PREFIXES = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"


def blocks(language: str) -> list[Block]:
    return doc_blocks.blocks(DOC, language)


# -- the pods the page describes --------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    server: LiveServer
    ann: Person
    ben: Person
    client_id: str
    client_secret: str

    @property
    def names(self) -> dict[str, str]:
        """The names the page asks readers to replace."""
        return {
            "ISSUER": self.server.url,
            "CLIENT_ID": self.client_id,
            "CLIENT_SECRET": self.client_secret,
            "POD": self.ann.pod,
            "WEBID": self.ann.webid,
            "FRIEND_POD": self.ben.pod,
        }


def _book(name: str, year: int) -> str:
    return f'{SCHEMA}<#it> a schema:Book; schema:name "{name}"; schema:datePublished {year} .\n'


def _put(agent: Agent, url: str, body: str) -> None:
    response = agent.put(url, body)
    assert response.status_code in (201, 204, 205), response.text


def _public(owner: Person, container: str) -> str:
    return ACL_PREFIXES + (
        f"<#owner> a acl:Authorization; acl:agent <{owner.webid}>; acl:accessTo <{container}>; "
        f"acl:default <{container}>; acl:mode acl:Read, acl:Write, acl:Control .\n"
        f"<#public> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <{container}>; "
        f"acl:default <{container}>; acl:mode acl:Read .\n"
    )


def _owner_only(owner: Person, document: str) -> str:
    return ACL_PREFIXES + (
        f"<#owner> a acl:Authorization; acl:agent <{owner.webid}>; acl:accessTo <{document}>; "
        "acl:mode acl:Read, acl:Write, acl:Control .\n"
    )


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    for server in _serve(tmp_path_factory.mktemp("query-doc"), single_pod=False):
        ann, ben = make_person(server, "ann"), make_person(server, "ben")
        as_ann, as_ben = log_in(server, ann), log_in(server, ben)
        _put(as_ann, ann.pod + "books/dune.ttl", _book("Dune", 1965))
        _put(as_ann, ann.pod + "public/shelf.ttl", _book("The Left Hand of Darkness", 1969))
        _put(as_ann, ann.pod + "public/.acl", _public(ann, ann.pod + "public/"))
        _put(as_ben, ben.pod + "public/shelf.ttl", _book("Foundation", 1951))
        _put(as_ben, ben.pod + "public/wishlist.ttl", _book("Neuromancer", 1984))
        _put(as_ben, ben.pod + "public/.acl", _public(ben, ben.pod + "public/"))
        wishlist = ben.pod + "public/wishlist.ttl"
        _put(as_ben, wishlist + ".acl", _owner_only(ben, wishlist))
        made = server.app.extensions["pod_server.accounts"].create_credential(
            ann.account_id, ann.webid, "doc"
        )
        yield Reader(server, ann, ben, made.client_id, made.client_secret)


def shown(output: str, reader: Reader) -> str:
    """``output`` with the pods' URLs written as the page writes them."""
    return (
        output.replace(reader.ann.pod, "https://pod.example/ann/")
        .replace(reader.ben.pod, "https://pod.example/ben/")
        .replace(reader.server.url, "https://pod.example/")
    )


def output_after(block: Block) -> str:
    """The ```text or ```json block right after ``block`` on the page: what it prints."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(block.code) + len(block.code) + len("```")  # past the block's own fence
    match = doc_blocks.FENCE.search(text, start)
    assert match is not None and match.group(1) in ("text", "json"), f"no output shown after {block.where}"
    return match.group(2)


# -- the markers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", CHECKED)
def test_every_example_says_whether_it_is_tested(language: str) -> None:
    unmarked = [block.where for block in blocks(language) if block.mark is None]
    assert not unmarked, f"mark these <!-- tested --> or <!-- untested: why -->: {unmarked}"
    assert any(block.tested for block in blocks(language))


@pytest.mark.parametrize("block", blocks("python"), ids=lambda block: block.where)
def test_every_python_example_compiles(block: Block) -> None:
    compile(block.code, block.where, "exec")


def test_the_limits_table_says_what_the_server_does() -> None:
    text = DOC.read_text(encoding="utf-8")
    settings = Settings()
    for fact in (
        f"longer than {guard.MAX_QUERY_BYTES // 1024} KiB",
        f"at most {guard.MAX_QUERY_BYTES} ({guard.MAX_QUERY_BYTES // 1024} KiB)",
        f"more than {guard.MAX_TRIPLE_PATTERNS} triple patterns",
        f"more than {guard.MAX_TOKENS} tokens, or brackets nested more than {guard.MAX_NESTING} deep",
        f"more than {settings.query_max_rows:,} results",
        f"still running after {settings.query_timeout:g} seconds",
        f"did not finish within {settings.query_timeout:g} s",
        guard.UPDATE_REFUSAL.split(";")[0],
    ):
        assert fact in text, fact


# -- running them -----------------------------------------------------------------------------------


def test_the_python_examples_run_in_order(
    reader: Reader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "query_doc", **reader.names}
    for block in blocks("python"):
        if not block.tested:
            continue
        # A blank line per doc line before the block: tracebacks name the doc's own lines.
        exec(compile("\n" * (block.line - 1) + block.code, str(DOC), "exec"), namespace)
        printed = shown(capsys.readouterr().out.replace("\r\n", "\n"), reader)  # CSV's CRLF as lines
        assert printed == output_after(block), block.where


def _environment(reader: Reader, home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("POD_") and key != "XDG_CONFIG_HOME"
    }
    scripts = Path(sys.executable).parent  # where pip put `pod`
    env.update(HOME=str(home), PATH=f"{scripts}{os.pathsep}{env.get('PATH', '')}", **reader.names)
    return env


def _same_json_or_text(got: str, wanted: str) -> bool:
    """The output as shown; "..." in the page stands for the rest of a long string."""
    if "..." not in wanted:
        return got == wanted
    pattern = ".*?".join(re.escape(part) for part in wanted.split("..."))
    return re.fullmatch(pattern, got, re.S) is not None


def test_the_shell_examples_run_in_order(reader: Reader, tmp_path: Path) -> None:
    env = _environment(reader, tmp_path)
    for block in blocks("sh"):
        if not block.tested:
            continue
        done = doc_blocks.run_shell(block.code, env=env, cwd=tmp_path, where=block.where)
        # curl's CSV has CRLF line ends (RFC 4180); the page shows lines.
        printed = shown(done.stdout.replace("\r\n", "\n") + done.stderr, reader)
        wanted = output_after(block)
        if wanted.startswith("{"):  # a JSON document, shown with the server's spacing
            printed = printed.strip() + "\n"
        assert _same_json_or_text(printed, wanted), f"{block.where}\n{printed}"


def _node_or_skip() -> str:
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node is not installed"
    elif not all((INTEROP / package).is_dir() for package in JS_PACKAGES):
        missing = f"{', '.join(JS_PACKAGES)} missing: run `cd tests/interop && npm install`"
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must install the JavaScript examples' packages: {missing}")
        pytest.skip(missing)
    assert node is not None
    return node


def test_the_javascript_examples_run_in_order(reader: Reader, tmp_path: Path) -> None:
    node = _node_or_skip()
    tested = [block for block in blocks("js") if block.tested]
    constants = "".join(f"const {name} = {value!r};\n" for name, value in reader.names.items())
    # Each block prints its lines after a marker, so that its output can be told apart.
    parts = [constants]
    for number, block in enumerate(tested):
        parts.append(f'console.log("--- block {number}");\n{block.code}\n')
    parts.append("process.exit(0);\n")  # the login keeps a refresh timer alive
    # Beside tests/interop's node_modules through a link, so that imports resolve from there.
    (tmp_path / "node_modules").symlink_to(INTEROP, target_is_directory=True)
    script = tmp_path / "query-doc.mjs"
    script.write_text("".join(parts), encoding="utf-8")
    done = subprocess.run(
        [node, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env=_environment(reader, tmp_path),
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    outputs = re.split(r"^--- block \d+\n", shown(done.stdout, reader), flags=re.M)[1:]
    assert len(outputs) == len(tested)
    for block, printed in zip(tested, outputs, strict=True):
        assert printed == output_after(block), f"{block.where}\n{printed}"
