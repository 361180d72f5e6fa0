"""Which modes each request needs, on which resources (no server)."""

from __future__ import annotations

import pytest

from pod_server.access.modes import Mode
from pod_server.access.required import required
from pod_server.ldp.model import Operation
from pod_server.rdf.patch import parse_patch

R, A, W = Mode.READ, Mode.APPEND, Mode.WRITE
EXISTING = {"/", "/pod/", "/pod/c/", "/pod/c/doc"}


def needs(method: str, path: str, patch: str | None = None) -> list[tuple[str, set[Mode]]]:
    parsed = (
        parse_patch(patch.encode(), "application/sparql-update", "https://x.example" + path)
        if patch
        else None
    )
    op = Operation(method, path, "https://x.example" + path, patch=parsed)
    found = required(op, EXISTING.__contains__, {"/pod/"}.__contains__)
    return [(p, set(m)) for p, m in found]


@pytest.mark.parametrize(
    "method,path,patch,expected",
    [
        ("GET", "/pod/c/doc", None, [("/pod/c/doc", {R})]),
        ("HEAD", "/pod/c/missing", None, [("/pod/c/missing", {R})]),
        ("OPTIONS", "/pod/c/", None, [("/pod/c/", {R})]),
        ("POST", "/pod/c/", None, [("/pod/c/", {A})]),
        ("PUT", "/pod/c/doc", None, [("/pod/c/doc", {W})]),
        ("PUT", "/pod/c/new", None, [("/pod/c/new", {W}), ("/pod/c/", {A})]),
        (
            "PUT",
            "/pod/c/x/y/new",
            None,
            [("/pod/c/x/y/new", {W}), ("/pod/c/x/y/", {A}), ("/pod/c/x/", {A}), ("/pod/c/", {A})],
        ),
        ("PUT", "/other/new", None, [("/other/new", {W}), ("/other/", {A}), ("/", {A})]),
        ("PATCH", "/pod/c/doc", "INSERT DATA { <#a> <#b> <#c> . }", [("/pod/c/doc", {A})]),
        ("PATCH", "/pod/c/doc", "DELETE DATA { <#a> <#b> <#c> . }", [("/pod/c/doc", {W})]),
        ("PATCH", "/pod/c/doc", "DELETE { ?s <#b> ?o } WHERE { ?s <#b> ?o }", [("/pod/c/doc", {R, W})]),
        ("PATCH", "/pod/c/doc", "INSERT { ?s <#b> 1 } WHERE { ?s <#b> ?o }", [("/pod/c/doc", {R, A})]),
        ("PATCH", "/pod/c/new", "INSERT DATA { <#a> <#b> <#c> . }", [("/pod/c/new", {A}), ("/pod/c/", {A})]),
        ("PATCH", "/pod/c/doc", None, [("/pod/c/doc", {W})]),  # not a patch we know: 415 after the check
        ("DELETE", "/pod/c/doc", None, [("/pod/c/doc", {W}), ("/pod/c/", {W})]),
        ("DELETE", "/pod/", None, [("/pod/", {W})]),  # a storage root: the store answers 405
        ("PUT", "/pod/c/doc.acl", None, [("/pod/c/doc.acl", {W})]),  # mapped to Control by the policy
        ("PATCH", "/pod/c/new.acl", "INSERT DATA { <#a> <#b> <#c> . }", [("/pod/c/new.acl", {A})]),
        ("DELETE", "/pod/c/doc.meta", None, [("/pod/c/doc.meta", {W})]),  # auxiliary: no container
    ],
)
def test_required_modes(
    method: str, path: str, patch: str | None, expected: list[tuple[str, set[Mode]]]
) -> None:
    assert needs(method, path, patch) == expected
