"""The client's API reference builds from its docstrings (``scripts/apidoc``, pdoc), cleanly: a page
for every public module, the key names on them, every module reachable from the package's page,
no pdoc warnings, and no reStructuredText left unconverted in the rendered docstrings."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import REPO

SCRIPT = REPO / "scripts" / "apidoc"
PACKAGE = REPO / "clients" / "pod_client"
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py") if not path.name.startswith("_"))
"""The public modules: every ``clients/pod_client/*.py`` whose name does not start with "_"."""

KEY_NAMES = {
    "session": ["Session", "Session.client_credentials", "Session.interactive", "Session.load"],
    "pod": ["Pod", "Pod.get_graph", "Pod.update_graph", "Pod.upload", "Pod.list", "Pod.delete"],
    "profile": ["find_locations", "register", "type_indexes"],
    "query": ["query", "federated", "endpoint_of", "QueryResult"],
    "acl": ["grant", "revoke", "show", "Rule"],
    "notifications": ["watch", "Watch", "subscribe", "unsubscribe"],
    "errors": ["raise_for_status", "PodClientError", "NotAuthenticated", "PreconditionFailed"],
    "cli": ["EXIT_CODES", "main"],
}
"""Names each page must document (pdoc gives each documented name an ``id`` anchor)."""

KNOWN_WARNINGS: tuple[str, ...] = ()
"""pdoc warnings tolerated (none)."""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if shutil.which("bash") is None:
        pytest.skip("scripts/apidoc is a bash script")
    out = tmp_path_factory.mktemp("apidoc") / "api"
    # The script runs `python3 -m pdoc`: make that this interpreter, wherever the tests run from.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path}
    done = subprocess.run(
        [str(SCRIPT), str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return out, done.stderr


def page(out: Path, module: str | None) -> str:
    path = out / "pod_client.html" if module is None else out / "pod_client" / f"{module}.html"
    assert path.is_file(), f"no page for {path.relative_to(out)}"
    return path.read_text(encoding="utf-8")


def docstrings(text: str) -> list[str]:
    """The rendered docstrings of a page (HTML)."""
    return re.findall(r'<div class="docstring">(.*?)</div>', text, re.S)


def test_the_modules_are_the_ones_the_doc_names() -> None:
    assert {"session", "pod", "profile", "acl", "notifications", "errors", "dpop", "vocab", "cli"} <= set(
        MODULES
    )


@pytest.mark.parametrize("module", [None, *MODULES], ids=lambda m: m or "pod_client")
def test_every_public_module_has_a_page(built: tuple[Path, str], module: str | None) -> None:
    out, _ = built
    text = page(out, module)
    assert docstrings(text), f"{module}: the module has no docstring"


def test_the_package_page_links_every_module(built: tuple[Path, str]) -> None:
    out, _ = built
    text = page(out, None)
    for module in MODULES:
        assert f'href="pod_client/{module}.html' in text, f"pod_client.html does not link {module}"


@pytest.mark.parametrize("module", sorted(KEY_NAMES))
def test_key_names_are_documented(built: tuple[Path, str], module: str) -> None:
    out, _ = built
    text = page(out, module)
    for name in KEY_NAMES[module]:
        assert f'id="{name}"' in text, f"pod_client.{module}.{name} is not on its page"


def test_pdoc_gives_no_warnings(built: tuple[Path, str]) -> None:
    _, stderr = built
    warnings = [
        line
        for line in stderr.splitlines()
        if line.startswith("Warn") and not any(known in line for known in KNOWN_WARNINGS)
    ]
    assert not warnings, "\n".join(warnings)


@pytest.mark.parametrize("module", [None, *MODULES], ids=lambda m: m or "pod_client")
def test_docstrings_render_without_leftover_markup(built: tuple[Path, str], module: str | None) -> None:
    """pdoc converts the reST the docstrings use (``code``, :class:`...`); anything it does not
    convert shows up as raw markup, and a line that starts with "#" becomes a heading."""
    out, _ = built
    for body in docstrings(page(out, module)):
        assert not re.search(r"<h[1-6]", body), f"{module}: a docstring line became a heading:\n{body}"
        prose = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", body, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", "", prose))
        for leftover in (":class:", ":meth:", ":func:", ":mod:", ":data:", ":exc:", ":attr:", "``"):
            assert leftover not in text, f"{module}: {leftover} left in:\n{text}"
        assert not re.search(r"::\s*$", text, re.M), f"{module}: a reST '::' is left in:\n{text}"
        assert "~pod_client" not in html.unescape(re.sub(r"<[^>]+>", "", body)), module
