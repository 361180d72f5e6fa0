"""JSON-LD for app developers (docs/jsonld.md), over HTTP.

``Accept: application/ld+json; profile="..."`` chooses the expanded, compacted or flattened form
(JSON-LD 1.1 §9, the IANA registration of application/ld+json); a frame in ``?frame=`` or the
``JSON-LD-Frame`` header gives a framed document (JSON-LD 1.1 Framing).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import LiveServer
from tests.http.helpers import TURTLE

FOAF = "http://xmlns.com/foaf/0.1/"
NS = "http://www.w3.org/ns/json-ld#"
JSONLD = "application/ld+json"
PEOPLE = b"""@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<#alice> a foaf:Person ; foaf:name "Alice" ; foaf:knows <#bob>, [ foaf:name "Carol" ] .
<#bob> a foaf:Person ; foaf:name "Bob" ; foaf:knows <#alice> .
"""
VOCAB = {"@vocab": FOAF}
TREE = {"@context": VOCAB, "@id": "#alice", "knows": {}}
"""Alice, with the people she knows embedded in her node object."""
NAMES = {"@context": VOCAB, "@type": "Person", "knows": {"@embed": "@never"}}
"""Every person, each with references to the people they know."""


@pytest.fixture(scope="module")
def doc(live: LiveServer) -> str:
    url = live.fresh("jsonld") + "people"
    assert live.http.put(url, data=PEOPLE, headers=TURTLE).status_code == 201
    return url


def profile(*names: str) -> dict[str, str]:
    return {"Accept": f'{JSONLD}; profile="{" ".join(NS + name for name in names)}"'}


def get_framed(
    live: LiveServer, url: str, frame: Any, *, header: bool = False, **kw: Any
) -> requests.Response:
    """GET ``url`` with ``frame``: JSON in ``?frame=`` (requests percent-encodes it) or the header."""
    text = frame if isinstance(frame, str) else json.dumps(frame)
    headers = {"Accept": JSONLD, **kw.pop("headers", {})}
    if header:
        return live.http.get(url, headers={**headers, "JSON-LD-Frame": text}, **kw)
    return live.http.get(url, params={"frame": text}, headers=headers, **kw)


def vary(response: requests.Response) -> set[str]:
    return {v.strip() for v in response.headers.get("Vary", "").split(",")}


# -- the three forms ------------------------------------------------------------------------------


def test_expanded_is_an_array_of_node_objects_with_full_iris(live: LiveServer, doc: str) -> None:
    r = live.http.get(doc, headers=profile("expanded"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == f'{JSONLD}; profile="{NS}expanded"'
    assert {"Accept", "JSON-LD-Frame"} <= vary(r)
    nodes = r.json()
    assert isinstance(nodes, list) and all("@context" not in node for node in nodes)
    alice = next(node for node in nodes if node["@id"] == doc + "#alice")
    assert alice["@type"] == [FOAF + "Person"]
    assert alice[FOAF + "name"] == [{"@value": "Alice"}]
    assert {"@id": doc + "#bob"} in alice[FOAF + "knows"]


def test_compacted_has_a_context_and_short_terms(live: LiveServer, doc: str) -> None:
    r = live.http.get(doc, headers=profile("compacted"))
    assert r.headers["Content-Type"] == f'{JSONLD}; profile="{NS}compacted"'
    document = r.json()
    assert document["@context"] == {"foaf": FOAF}
    alice = next(node for node in document["@graph"] if node["@id"] == doc + "#alice")
    assert alice["@type"] == "foaf:Person" and alice["foaf:name"] == "Alice"


def _top_level_only(nodes: list[dict[str, Any]], knows: str) -> None:
    """Flattened (JSON-LD 1.1 §4.9): every node at the top level, values only references."""
    ids = {node["@id"] for node in nodes}
    carol = [node for node in nodes if node["@id"].startswith("_:")]
    assert len(carol) == 1  # the blank node is a top-level node with a label of its own
    for node in nodes:
        values = node.get(knows, [])
        for value in values if isinstance(values, list) else [values]:
            assert set(value) == {"@id"} and value["@id"] in ids


def test_flattened_puts_every_node_at_the_top_level(live: LiveServer, doc: str) -> None:
    r = live.http.get(doc, headers=profile("flattened"))
    assert r.headers["Content-Type"] == f'{JSONLD}; profile="{NS}flattened"'
    nodes = r.json()
    assert isinstance(nodes, list)
    _top_level_only(nodes, FOAF + "knows")


def test_flattened_and_compacted_together(live: LiveServer, doc: str) -> None:
    r = live.http.get(doc, headers=profile("flattened", "compacted"))
    assert r.headers["Content-Type"] == f'{JSONLD}; profile="{NS}flattened {NS}compacted"'
    document = r.json()
    assert document["@context"] == {"foaf": FOAF}
    _top_level_only(document["@graph"], "foaf:knows")


@pytest.mark.parametrize(
    "accept", [JSONLD, f'{JSONLD}; profile="https://unknown.example/profile"', f"{JSONLD}, text/turtle;q=0.5"]
)
def test_without_a_known_profile_the_content_type_is_plain(live: LiveServer, doc: str, accept: str) -> None:
    """IANA registration: unknown profiles MUST be ignored; the default form is compacted."""
    r = live.http.get(doc, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == JSONLD
    assert "@context" in r.json()


def test_the_framed_profile_without_a_frame_is_406(live: LiveServer, doc: str) -> None:
    r = live.http.get(doc, headers=profile("framed"))
    assert r.status_code == 406
    assert "needs a frame" in r.json()["detail"]


# -- frames -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [False, True], ids=["query", "header"])
def test_a_frame_gives_a_tree_of_a_person_and_who_they_know(live: LiveServer, doc: str, header: bool) -> None:
    r = get_framed(live, doc, TREE, header=header)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == f'{JSONLD}; profile="{NS}framed"'
    assert {"Accept", "JSON-LD-Frame"} <= vary(r)
    alice = r.json()
    assert alice["@context"] == VOCAB
    assert (alice["@id"], alice["@type"], alice["name"]) == (doc + "#alice", "Person", "Alice")
    known = {friend["name"]: friend for friend in alice["knows"]}
    assert set(known) == {"Bob", "Carol"}
    assert known["Bob"]["@type"] == "Person"
    assert known["Bob"]["knows"] == {"@id": doc + "#alice"}  # the way back is a reference


def test_query_and_header_frames_give_the_same_document(live: LiveServer, doc: str) -> None:
    assert get_framed(live, doc, NAMES).json() == get_framed(live, doc, NAMES, header=True).json()


def test_a_frame_on_a_container(live: LiveServer, doc: str) -> None:
    container = doc.rsplit("/", 1)[0] + "/"
    frame = {"@context": {"ldp": "http://www.w3.org/ns/ldp#"}, "@id": container, "ldp:contains": {}}
    listing = get_framed(live, container, frame).json()
    assert listing["ldp:contains"]["@id"] == doc


def test_a_frame_asks_for_json_ld_whatever_accept_prefers(live: LiveServer, doc: str) -> None:
    r = get_framed(live, doc, NAMES, headers={"Accept": "text/turtle, */*;q=0.1"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(JSONLD)
    r = get_framed(live, doc, NAMES, headers={"Accept": "text/turtle"})
    assert r.status_code == 406
    assert JSONLD in r.json()["detail"]


def test_a_frame_on_a_non_rdf_resource_is_406(live: LiveServer) -> None:
    url = live.fresh("jsonld") + "note.txt"
    live.http.put(url, data=b"hello", headers={"Content-Type": "text/plain"})
    r = get_framed(live, url, NAMES, headers={"Accept": "*/*"})
    assert r.status_code == 406
    assert "applies to RDF sources" in r.json()["detail"]
    assert live.http.get(url).content == b"hello"


def test_a_frame_naming_a_remote_context_is_422(live: LiveServer, doc: str) -> None:
    r = get_framed(live, doc, {"@context": "https://evil.example/context.jsonld", "@type": "Person"})
    assert r.status_code == 422
    assert "https://evil.example/context.jsonld" in r.json()["detail"]


def test_a_frame_may_use_a_bundled_context(live: LiveServer) -> None:
    url = live.fresh("jsonld") + "note"
    note = b'@prefix as: <https://www.w3.org/ns/activitystreams#> . <#n> a as:Note ; as:content "hi" .'
    live.http.put(url, data=note, headers=TURTLE)
    r = get_framed(live, url, {"@context": "https://www.w3.org/ns/activitystreams", "type": "Note"})
    assert r.status_code == 200
    assert r.json()["content"] == "hi"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("{not json", "the JSON-LD frame is not valid JSON"),
        ("[]", "a JSON-LD frame is a JSON object"),
        (json.dumps({"@context": VOCAB, "name": "x" * 17000}), "the limit is 16384 bytes"),
        (json.dumps({"@type": 5}), "the JSON-LD frame cannot be applied"),
    ],
)
@pytest.mark.parametrize("header", [False, True], ids=["query", "header"])
def test_a_bad_frame_is_400_with_a_clear_message(
    live: LiveServer, doc: str, frame: str, message: str, header: bool
) -> None:
    r = get_framed(live, doc, frame, header=header)
    assert r.status_code == 400
    assert message in r.json()["detail"]


def test_two_frames_at_once_are_400(live: LiveServer, doc: str) -> None:
    r = live.http.get(doc, params={"frame": json.dumps(NAMES)}, headers={"JSON-LD-Frame": json.dumps(TREE)})
    assert r.status_code == 400
    assert "send one JSON-LD frame" in r.json()["detail"]


def test_an_embedding_frame_that_grows_too_large_is_422(live: LiveServer) -> None:
    url = live.fresh("jsonld") + "everyone"
    people = [
        f"<#p{i}> a foaf:Person ; foaf:knows {', '.join(f'<#p{j}>' for j in range(12) if j != i)} ."
        for i in range(12)
    ]
    live.http.put(
        url,
        data=("@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n" + "\n".join(people)).encode(),
        headers=TURTLE,
    )
    r = get_framed(live, url, {"@context": VOCAB, "@type": "Person", "@embed": "@always"})
    assert r.status_code == 422
    assert "values" in r.json()["detail"]


def test_a_deep_but_allowed_tree_is_served(live: LiveServer) -> None:
    url = live.fresh("jsonld") + "chain"
    lines = [f"<#p{i}> foaf:knows <#p{i + 1}> ." for i in range(60)]
    live.http.put(
        url,
        data=("@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n" + "\n".join(lines)).encode(),
        headers=TURTLE,
    )
    node = get_framed(live, url, {"@context": VOCAB, "@id": "#p0"}).json()
    depth = 0
    while "knows" in node:
        node, depth = node["knows"], depth + 1
    assert depth == 60 and node == {"@id": url + "#p60"}


def test_head_with_a_frame(live: LiveServer, doc: str) -> None:
    r = live.http.head(doc, params={"frame": json.dumps(TREE)}, headers={"Accept": JSONLD})
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Type"] == f'{JSONLD}; profile="{NS}framed"'


def test_writes_ignore_a_frame_parameter(live: LiveServer) -> None:
    url = live.fresh("jsonld") + "written"
    r = live.http.put(url, params={"frame": "{not json"}, data=PEOPLE, headers=TURTLE)
    assert r.status_code == 201


# -- caching and validators -------------------------------------------------------------------------


def test_each_frame_and_form_is_cached_apart(live: LiveServer) -> None:
    url = live.fresh("jsonld") + "cached"
    live.http.put(url, data=PEOPLE, headers=TURTLE)
    cache = live.app.extensions["pod_server.ldp"].context.cache
    before = len(cache)
    tree, names = get_framed(live, url, TREE), get_framed(live, url, NAMES)
    assert tree.json() != names.json()
    assert "@graph" in names.json() and "@graph" not in tree.json()
    assert len(cache) == before + 2
    # The same frames again: the same documents, from the cache (no new entries) ...
    assert get_framed(live, url, TREE).content == tree.content
    assert get_framed(live, url, NAMES, header=True).content == names.content
    # ... and the forms are entries of their own, never a frame's document.
    expanded = live.http.get(url, headers=profile("expanded")).json()
    compacted = live.http.get(url, headers=profile("compacted")).json()
    assert isinstance(expanded, list) and "@graph" in compacted
    assert len(cache) == before + 4


def test_one_etag_for_every_representation_and_conditional_get_stays_correct(live: LiveServer) -> None:
    """docs/decisions/0002: one ETag serves all representations of a resource, framed ones too.
    A framed document is a function of the resource and the frame, so If-None-Match with the
    resource's ETag is exactly "has the resource changed"."""
    url = live.fresh("jsonld") + "etag"
    live.http.put(url, data=PEOPLE, headers=TURTLE)
    turtle = live.http.get(url)
    framed = get_framed(live, url, TREE)
    etag = framed.headers["ETag"]
    assert etag == turtle.headers["ETag"] == get_framed(live, url, NAMES).headers["ETag"]

    not_modified = get_framed(live, url, TREE, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""

    live.http.put(url, data=PEOPLE.replace(b'"Alice"', b'"Alicia"'), headers=TURTLE)
    changed = get_framed(live, url, TREE, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["name"] == "Alicia"
    # The writer's If-Match works with the ETag any representation carried.
    r = live.http.put(url, data=PEOPLE, headers={**TURTLE, "If-Match": changed.headers["ETag"]})
    assert r.status_code == 204


# -- docs/jsonld.md -------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "jsonld.md"
DOCS_URL = "http://localhost:3000/people"


def _curl(command: str, url: str) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and query parameters of one of the doc's ``curl`` commands (-H, -G and
    --data-urlencode only), checking that it asks for the doc's resource."""
    args = shlex.split(command.replace("\\\n", " "))
    assert args[0] == "curl" and args[-1] == DOCS_URL
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    rest = iter(args[1:-1])
    for arg in rest:
        if arg == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "--data-urlencode":
            name, _, value = next(rest).partition("=")
            params[name] = value
        else:
            assert arg == "-G", f"the test does not know curl's {arg}"
    return headers, params


def test_the_examples_in_the_docs_are_what_the_server_answers(live: LiveServer) -> None:
    text = DOCS.read_text(encoding="utf-8")
    turtle = re.search(r"```turtle\n(.*?)```", text, re.S)
    assert turtle is not None
    url = live.fresh("docs") + "people"
    assert live.http.put(url, data=turtle.group(1).encode(), headers=TURTLE).status_code == 201
    examples = re.findall(r"```sh\n(curl [^`]*?)```\s*```json\n(.*?)```", text, re.S)
    assert len(examples) == 4
    for command, expected in examples:
        headers, params = _curl(command, url)
        r = live.http.get(url, headers=headers, params=params)
        assert r.status_code == 200, command
        assert r.json() == json.loads(expected.replace(DOCS_URL, url)), command
