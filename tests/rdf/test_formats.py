from __future__ import annotations

import pytest

from pod_server.rdf.formats import JSONLD, TURTLE, WRITABLE, accept_params, essence, negotiate


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, TURTLE),
        ("", TURTLE),
        ("*/*", TURTLE),
        ("application/ld+json", JSONLD),
        ("text/*", TURTLE),
        ("text/turtle;q=0.1, application/ld+json", JSONLD),
        ("application/ld+json;q=0, */*;q=0.1", TURTLE),
        ("image/png", None),
        ("text/turtle;q=0", None),
        ("application/n-triples", "application/n-triples"),
        ("application/n-triples, text/turtle", TURTLE),  # equal q: the server's order decides
        ("garbage", TURTLE),
        ("text/turtle;q=abc", None),
    ],
)
def test_negotiate(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept, WRITABLE) == chosen


def test_essence_and_params() -> None:
    assert essence("Text/Turtle; charset=UTF-8") == TURTLE
    assert essence("application/x-turtle") == TURTLE
    profile = 'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"'
    assert accept_params(profile, JSONLD) == {"profile": "http://www.w3.org/ns/json-ld#expanded"}
