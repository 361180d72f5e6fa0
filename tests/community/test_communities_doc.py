"""docs/communities.md is true: its command-line walkthrough runs, as written, against two live
pod-servers (separate processes), and leaves the state the page describes.

The tested ``sh`` blocks run in order as one bash script, with the names the page uses set in the
environment: ``A`` and ``B`` (the servers), ``ALICE``/``BOB``/``CAROL`` (WebIDs) and their client
credentials (``ALICE_ID``, ``ALICE_SECRET``, ...). HOME is a temporary folder, so the session files
the page writes land there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from rdflib import Graph

from pod_server.vocab import CBPP, RDF, VF
from tests import doc_blocks
from tests.community.two_servers import Server, User, register, two_servers
from tests.live import REPO

pytestmark = pytest.mark.slow

DOC = REPO / "docs" / "communities.md"


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, User], str]]:
    if shutil.which("jq") is None:
        reason = "the walkthrough uses jq (Debian package jq; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    tmp: Path = tmp_path_factory.mktemp("communities-doc")
    home = tmp / "home"
    home.mkdir()
    with two_servers(tmp) as (a, b):
        people = {"alice": register(a, "alice"), "bob": register(b, "bob"), "carol": register(a, "carol")}
        env = {k: v for k, v in os.environ.items() if not k.startswith("POD_")}
        env.update(A=a.url, B=b.url, HOME=str(home))
        for name, user in people.items():
            client_id, secret = user.client_credentials(user.webid, "pod command line")
            env.update(
                {name.upper(): user.webid, f"{name.upper()}_ID": client_id, f"{name.upper()}_SECRET": secret}
            )
        # One script: the page's blocks share shell variables ($C, $DOCS, $MOTION...).
        script = "\n".join(b.code for b in doc_blocks.blocks(DOC, "sh") if b.tested)
        ran = doc_blocks.run_shell(script, env=env, cwd=home, where="docs/communities.md", timeout=300)
        yield a, people, ran.stdout


def test_every_shell_example_says_whether_it_is_tested() -> None:
    found = doc_blocks.blocks(DOC, "sh")
    assert len([b for b in found if b.tested]) >= 8
    assert not [b.where for b in found if b.mark is None]


def test_the_walkthrough_ends_where_the_page_says(walked: tuple[Server, dict[str, User], str]) -> None:
    a, people, out = walked
    community = a.url + "commons/"
    roster = requests.get(community + ".well-known/community", timeout=10).json()
    confirmed = {m["webid"] for m in roster["members"] if m["confirmed"]}
    assert confirmed == {people["alice"].webid, people["bob"].webid}  # Carol was removed by vote
    assert "refused: exit 4" in out  # Carol's self-acknowledgement and her vote after removal
    assert out.count("PASS:") == 2

    month = next(line for line in out.splitlines() if line.startswith("Credit for ")).split()[2]
    report = requests.get(community + f"credit/{month}", headers={"Accept": "text/turtle"}, timeout=10)
    assert report.status_code == 200
    graph = Graph().parse(data=report.text, format="turtle")
    totals = {
        str(graph.value(t, VF.receiver)): Decimal(str(graph.value(t, CBPP.amount)))
        for t in graph.subjects(RDF.type, CBPP.CreditTotal)
    }
    assert totals == {people["bob"].webid: Decimal(35), people["carol"].webid: Decimal(40)}
