"""pod_server.rdf.jsonld: JSON-LD with bundled contexts and never the network."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld
from rdflib import Literal, URIRef

from pod_server.errors import BadRequest, InvalidRdf
from pod_server.rdf import formats
from pod_server.rdf.convert import parse
from pod_server.rdf.jsonld import (
    BUNDLED_CONTEXTS,
    CONTEXTS_DIR,
    bundled_context,
    bundled_url,
    json_depth_exceeds,
    load_json,
    offline_loader,
    pyld_options,
    to_rdf,
)
from pod_server.rdf.limits import RdfLimits
from pod_server.vocab import LDP, RDF, XSD

OIDC = "http://www.w3.org/ns/solid/oidc#"
AS = "https://www.w3.org/ns/activitystreams#"
NOTIFY = "http://www.w3.org/ns/solid/notifications#"
BASE = "https://app.example/id"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every test here fails if anything tries to open a network connection."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise AssertionError(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts
    assert attempts == []


@pytest.fixture
def failing_default_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyld's process-wide default loader raises, so using it anywhere would show."""

    def loader(url: str, options: Any = None) -> Any:
        raise AssertionError(f"pyld's default document loader was used for {url}")

    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", loader)


def test_the_network_guard_works(no_network: list[Any]) -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match="network access attempted"):
        sock.connect(("127.0.0.1", 9))
    assert no_network == [("127.0.0.1", 9)]
    no_network.clear()


@pytest.mark.parametrize("url", sorted(BUNDLED_CONTEXTS))
def test_every_bundled_context_is_a_json_ld_context_document(url: str) -> None:
    path = CONTEXTS_DIR / BUNDLED_CONTEXTS[url]
    document = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(document["@context"], dict)
    remote = offline_loader(url)
    assert remote["document"] == document
    assert remote["documentUrl"] == url
    # pyld accepts it as a context.
    document = {"@context": url, "@id": "https://x.example/", "https://p.example/": "v"}
    expanded = pyld_jsonld.expand(document, pyld_options())
    assert expanded == [{"@id": "https://x.example/", "https://p.example/": [{"@value": "v"}]}]


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("https://www.w3.org/ns/activitystreams", "https://www.w3.org/ns/activitystreams"),
        ("http://www.w3.org/ns/activitystreams", "https://www.w3.org/ns/activitystreams"),
        ("https://www.w3.org/ns/activitystreams#", "https://www.w3.org/ns/activitystreams"),
        ("https://www.w3.org/ns/activitystreams.jsonld", "https://www.w3.org/ns/activitystreams"),
        ("HTTPS://WWW.W3.ORG/ns/activitystreams/", "https://www.w3.org/ns/activitystreams"),
        ("http://www.w3.org/ns/solid/oidc-context.jsonld", "https://www.w3.org/ns/solid/oidc-context.jsonld"),
        ("https://www.w3.org/ns/solid/oidc-context", "https://www.w3.org/ns/solid/oidc-context.jsonld"),
        ("http://www.w3.org/ns/solid/notification/v1", "https://www.w3.org/ns/solid/notification/v1"),
        ("https://w3id.org/security/v1#", "https://w3id.org/security/v1"),
        ("https://www.w3.org/ns/activitystreams-extra", None),
        ("https://www.w3.org/ns/ACTIVITYSTREAMS", None),  # paths are case-sensitive
        ("https://evil.example/ns/activitystreams", None),
    ],
)
def test_url_variants_map_to_the_bundled_file(variant: str, canonical: str | None) -> None:
    assert bundled_url(variant) == canonical


def test_bundled_context_returns_fresh_copies() -> None:
    first = bundled_context("https://www.w3.org/ns/activitystreams")
    first["@context"]["Note"] = "changed"
    assert bundled_context("https://www.w3.org/ns/activitystreams")["@context"]["Note"] == "as:Note"
    with pytest.raises(KeyError):
        bundled_context("https://evil.example/ctx")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/ctx.jsonld",
        "http://127.0.0.1:9/ctx",
        "file:///etc/passwd",
        "https://schema.org/",
    ],
)
def test_the_loader_refuses_other_urls_naming_them(url: str) -> None:
    with pytest.raises(BadRequest) as caught:
        offline_loader(url, {})
    assert url in caught.value.detail
    assert "inline the context" in caught.value.detail
    assert "https://www.w3.org/ns/activitystreams" in caught.value.detail


@pytest.mark.parametrize(
    "document",
    [
        {"@context": "https://evil.example/ctx", "@id": "https://a.example/", "name": "x"},
        {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://evil.example/ctx"],
            "id": "https://a/",
        },
        {"@context": {"@import": "https://evil.example/ctx"}, "@id": "https://a.example/"},
        {"@id": "https://a.example/", "https://p.example/": {"@context": "https://evil.example/ctx", "v": 1}},
    ],
    ids=["string", "array", "import", "nested"],
)
def test_remote_contexts_are_refused_with_bad_request(document: Any, failing_default_loader: None) -> None:
    with pytest.raises(BadRequest, match=re.escape("https://evil.example/ctx")) as caught:
        to_rdf(document, BASE)
    assert not isinstance(caught.value, InvalidRdf)
    with pytest.raises(BadRequest, match="remote JSON-LD contexts are not fetched"):
        parse(json.dumps(document).encode(), formats.JSONLD, BASE, RdfLimits())


def test_solid_oidc_client_id_document_works_offline(failing_default_loader: None) -> None:
    # Solid-OIDC §5.1: a Client ID Document.
    body = {
        "@context": "https://www.w3.org/ns/solid/oidc-context.jsonld",
        "client_id": BASE,
        "client_name": "Example App",
        "redirect_uris": ["https://app.example/callback"],
        "client_uri": "https://app.example/",
        "grant_types": ["refresh_token", "authorization_code"],
        "scope": "openid webid offline_access",
        "require_auth_time": True,
        "default_max_age": 3600,
    }
    graph = parse(json.dumps(body).encode(), formats.JSONLD, BASE, RdfLimits())
    app = URIRef(BASE)
    assert (app, URIRef(OIDC + "redirect_uris"), URIRef("https://app.example/callback")) in graph
    assert (app, URIRef(OIDC + "client_name"), Literal("Example App")) in graph
    assert (app, URIRef(OIDC + "client_uri"), URIRef("https://app.example/")) in graph
    assert set(graph.objects(app, URIRef(OIDC + "grant_types"))) == {
        Literal("refresh_token"),
        Literal("authorization_code"),
    }
    assert (app, URIRef(OIDC + "require_auth_time"), Literal("true", datatype=XSD.boolean)) in graph
    assert (app, URIRef(OIDC + "default_max_age"), Literal("3600", datatype=XSD.integer)) in graph


def test_activity_streams_document_works_offline(failing_default_loader: None) -> None:
    body = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://pod.example/inbox/1",
        "type": "Update",
        "actor": "https://alice.example/profile/card#me",
        "object": "https://pod.example/doc",
        "published": "2024-01-01T00:00:00Z",
        "summaryMap": {"en": "changed", "fr": "modifié"},
        "inbox": "https://alice.example/inbox/",
    }
    graph = parse(json.dumps(body).encode(), formats.JSONLD, "https://pod.example/inbox/1", RdfLimits())
    activity = URIRef("https://pod.example/inbox/1")
    assert (activity, RDF.type, URIRef(AS + "Update")) in graph
    assert (activity, URIRef(AS + "actor"), URIRef("https://alice.example/profile/card#me")) in graph
    assert (
        activity,
        URIRef(AS + "published"),
        Literal("2024-01-01T00:00:00Z", datatype=XSD.dateTime),
    ) in graph
    assert (activity, URIRef(AS + "summary"), Literal("modifié", lang="fr")) in graph
    assert (activity, LDP.inbox, URIRef("https://alice.example/inbox/")) in graph


def test_solid_notification_channel_works_offline(failing_default_loader: None) -> None:
    # Solid Notifications Protocol §7.2: a subscription request.
    body = {
        "@context": ["https://www.w3.org/ns/solid/notification/v1"],
        "type": "http://www.w3.org/ns/solid/notifications#WebSocketChannel2023",
        "topic": "https://pod.example/doc",
        "endAt": "2030-01-01T00:00:00Z",
        "feature": "notify:rate",
        "rate": "PT10S",
    }
    dataset = to_rdf(body, "https://pod.example/.notifications/")
    triples = dataset["@default"]
    predicates = {t["predicate"]["value"] for t in triples}
    assert {NOTIFY + "topic", NOTIFY + "endAt", NOTIFY + "feature", NOTIFY + "rate"} <= predicates
    feature = next(t for t in triples if t["predicate"]["value"] == NOTIFY + "feature")
    assert feature["object"] == {"type": "IRI", "value": NOTIFY + "rate"}


def test_inline_contexts_need_no_loader(failing_default_loader: None) -> None:
    body = {"@context": {"name": "http://xmlns.com/foaf/0.1/name"}, "@id": "#me", "name": "Alice"}
    dataset = to_rdf(body, "https://alice.example/card")
    assert dataset["@default"] == [
        {
            "subject": {"type": "IRI", "value": "https://alice.example/card#me"},
            "predicate": {"type": "IRI", "value": "http://xmlns.com/foaf/0.1/name"},
            "object": {"type": "literal", "value": "Alice", "datatype": str(XSD.string)},
        }
    ]


def test_pyld_options_always_use_the_offline_loader() -> None:
    def other(url: str, options: Any = None) -> Any:
        raise AssertionError("not this one")

    options = pyld_options("https://a.example/", documentLoader=other, processingMode="json-ld-1.1")
    assert options["documentLoader"] is offline_loader
    assert options["base"] == "https://a.example/"
    assert options["processingMode"] == "json-ld-1.1"
    assert "base" not in pyld_options()


def test_compaction_with_a_bundled_context_works_offline(failing_default_loader: None) -> None:
    expanded = [{"@id": "https://a.example/n", "@type": [AS + "Note"], AS + "content": [{"@value": "hi"}]}]
    compacted = pyld_jsonld.compact(expanded, "https://www.w3.org/ns/activitystreams", pyld_options())
    assert compacted["type"] == "Note"
    assert compacted["content"] == "hi"


def test_invalid_json_ld_is_invalid_rdf_with_a_one_line_message() -> None:
    with pytest.raises(InvalidRdf) as caught:
        to_rdf({"@context": {"@version": 2.0}, "@id": "https://a/"}, BASE)
    assert "\n" not in caught.value.detail
    assert caught.value.detail.startswith("invalid JSON-LD:")


# ---------------------------------------------------------------------------------------------
# JSON depth
# ---------------------------------------------------------------------------------------------


def test_load_json_parses_and_reports_lines() -> None:
    assert load_json('{"a": [1, {"b": 2}]}', 3) == {"a": [1, {"b": 2}]}
    with pytest.raises(InvalidRdf) as caught:
        load_json('{\n"a": [1,\n]}', 64)
    assert caught.value.line == 3


@pytest.mark.parametrize(
    ("value", "depth", "exceeds"),
    [
        ("x", 0, False),
        ([], 1, False),
        ([], 0, True),
        ({"a": [1, 2]}, 2, False),
        ({"a": [1, 2]}, 1, True),
        ([[[[]]]], 4, False),
        ([[[[]]]], 3, True),
        ({"a": {}, "b": [[{"c": []}]]}, 5, False),
        ({"a": {}, "b": [[{"c": []}]]}, 4, True),
    ],
)
def test_json_depth(value: Any, depth: int, exceeds: bool) -> None:
    assert json_depth_exceeds(value, depth) is exceeds


def test_json_nested_beyond_pythons_recursion_limit_is_a_clean_400() -> None:
    with pytest.raises(BadRequest, match="max_jsonld_depth"):
        load_json("[" * 100_000 + "]" * 100_000, 64)


def test_json_nested_beyond_the_limit_never_reaches_pyld(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pyld was called")

    monkeypatch.setattr(pyld_jsonld, "to_rdf", explode)
    body = b'{"@id": "https://a/", "https://p/": ' + b"[" * 70 + b"1" + b"]" * 70 + b"}"
    with pytest.raises(BadRequest, match="max_jsonld_depth"):
        parse(body, formats.JSONLD, BASE, RdfLimits())
