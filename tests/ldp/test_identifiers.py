from __future__ import annotations

import pytest

from pod_server.errors import BadRequest, UriTooLong
from pod_server.ldp.identifiers import IdentifierMap, auxiliary_of, canonical_path, subject_of


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("/", "/"),
        ("/a/b", "/a/b"),
        ("/a/b/", "/a/b/"),
        ("/a/%7Euser", "/a/~user"),
        ("/a/my%20file.txt", "/a/my%20file.txt"),
        ("/a/my file.txt", "/a/my%20file.txt"),
        ("/a/b%2Fc", "/a/b%2Fc"),
        ("/a/b%2fc/", "/a/b%2Fc/"),
        ("/caf%C3%A9", "/caf%C3%A9"),
        ("/a/<x>", "/a/%3Cx%3E"),
    ],
)
def test_canonical_path(raw: str, canonical: str) -> None:
    assert canonical_path(raw) == canonical


@pytest.mark.parametrize("raw", ["/a//b", "/a/../b", "/a/%2e%2E/b", "/./a", "/%ff", "/a%00b", "relative"])
def test_refused_paths(raw: str) -> None:
    with pytest.raises(BadRequest):
        canonical_path(raw)


def test_path_length_limit() -> None:
    with pytest.raises(UriTooLong):
        canonical_path("/" + "a" * 100, max_length=50)


def test_auxiliary_resources() -> None:
    assert auxiliary_of("/a/b", "describedby") == "/a/b.meta"
    assert auxiliary_of("/a/", "acl") == "/a/.acl"
    assert subject_of("/a/b.meta") == ("/a/b", "describedby")
    assert subject_of("/a/.acl") == ("/a/", "acl")
    assert subject_of("/a/b") is None
    assert subject_of("/a/b.meta/") is None


@pytest.mark.parametrize(
    ("single", "path", "root"),
    [
        (True, "/", "/"),
        (True, "/a/b", "/"),
        (False, "/", None),
        (False, "/alice/", "/alice/"),
        (False, "/alice/x/y", "/alice/"),
    ],
)
def test_storage_roots(single: bool, path: str, root: str | None) -> None:
    assert IdentifierMap("http://localhost:3000/", single_pod=single).storage_root(path) == root


def test_subdomain_mapping_round_trips() -> None:
    ids = IdentifierMap("https://pods.example/", subdomains=True)
    assert ids.to_url("/alice/notes/a") == "https://alice.pods.example/notes/a"
    assert ids.to_path("alice.pods.example", "/notes/a") == "/alice/notes/a"
    assert ids.to_path("pods.example", "/") == "/"
    with pytest.raises(BadRequest):
        ids.to_path("x.alice.pods.example", "/")


def test_base_url_with_a_path_prefix() -> None:
    ids = IdentifierMap("https://example.org/solid/")
    assert ids.to_url("/alice/") == "https://example.org/solid/alice/"
    assert ids.to_path("example.org", "/solid/alice/") == "/alice/"


def test_server_managed_paths() -> None:
    ids = IdentifierMap("http://localhost:3000/")
    assert ids.is_server_managed("/alice/.well-known/solid")
    assert not ids.is_server_managed("/alice/notes/.well-known")


def test_server_well_known_is_never_a_pod() -> None:
    ids = IdentifierMap("http://localhost:3000/")
    assert ids.storage_root("/.well-known/foo") is None
    assert ids.is_server_managed("/.well-known/foo")
    assert ids.is_server_managed("/.well-known/")


@pytest.mark.parametrize("single", [True, False])
@pytest.mark.parametrize(
    "path", ["/.account/", "/.account/login", "/.oidc/token", "/.well-known/openid-configuration"]
)
def test_server_routes_are_reserved(single: bool, path: str) -> None:
    ids = IdentifierMap("http://localhost:3000/", single_pod=single)
    assert ids.is_server_managed(path)
