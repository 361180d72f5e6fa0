"""Storage paths and URLs: canonical paths, auxiliary resources, storage roots.

A *path* is the canonical, percent-encoded URL path of a resource inside this server, e.g.
``/alice/notes/my%20list.ttl``. A path ending in ``/`` is a container (Solid Protocol §3.1:
"the slash semantics"). Every component below the HTTP layer speaks paths; this module maps
them to and from absolute URLs, in path mode (``https://host/alice/...``) or subdomain mode
(``https://alice.host/...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote, unquote, urlsplit

from pod_server.errors import BadRequest, UriTooLong

# RFC 3986 §3.3: a segment may hold unreserved characters, sub-delims, ':' and '@' unencoded.
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@"

AUXILIARY_SUFFIXES: dict[str, str] = {"describedby": ".meta", "acl": ".acl"}
"""Link relation -> the suffix of the auxiliary resource (Solid Protocol §4.3)."""

WELL_KNOWN = ".well-known/"
SERVER_ROUTES = (WELL_KNOWN, ".account/", ".oidc/", ".notifications/", ".ns/", ".communities/")
"""Top-level names the server itself answers (discovery, account pages, the identity provider,
the published vocabulary and shapes, the communities endpoint). They are never pods, and in
single-pod mode never resources; neither is the bare name (``/.communities``)."""
_SERVER_PREFIXES = tuple("/" + r for r in SERVER_ROUTES)
_SERVER_NAMES = frozenset("/" + r.rstrip("/") for r in SERVER_ROUTES)


def _is_server_route(path: str) -> bool:
    return path.startswith(_SERVER_PREFIXES) or path in _SERVER_NAMES


STORAGE_DESCRIPTION = ".well-known/solid"
"""Inside each storage root; read-only and served by the server (Solid Protocol §4.1)."""


def canonical_segment(raw: str) -> str:
    """Decode then re-encode one segment so equivalent spellings get one path: ``%7e`` -> ``~``."""
    return quote(unquote(raw, errors="strict"), safe=_SEGMENT_SAFE)


def canonical_path(raw: str, *, max_length: int = 1024) -> str:
    """The canonical form of a raw URL path. Refuses dot-segments, empty segments and control characters."""
    if len(raw) > max_length:
        raise UriTooLong(f"the path is {len(raw)} characters long; the limit is {max_length}")
    if not raw.startswith("/"):
        raise BadRequest("the path must start with '/'")
    segments = raw.split("/")[1:]
    out: list[str] = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "":
            if last:
                break  # trailing slash: a container
            raise BadRequest("the path has an empty segment ('//'); remove the doubled slash")
        try:
            decoded = unquote(seg, errors="strict")
        except UnicodeDecodeError:
            raise BadRequest("the path has percent-escapes that are not UTF-8") from None
        if decoded in {".", ".."}:
            raise BadRequest("the path has a '.' or '..' segment; send the resolved path")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
            raise BadRequest("the path has control characters")
        out.append(quote(decoded, safe=_SEGMENT_SAFE))
    path = "/" + "/".join(out)
    if raw.endswith("/") and path != "/":
        path += "/"
    if len(path) > max_length:
        raise UriTooLong(f"the path is {len(path)} characters long; the limit is {max_length}")
    return path


def is_container(path: str) -> bool:
    return path.endswith("/")


def name_of(path: str) -> str:
    """The last segment, without a trailing slash."""
    trimmed = path[:-1] if path.endswith("/") else path
    return trimmed.rsplit("/", 1)[-1]


def auxiliary_of(path: str, rel: str) -> str:
    """The auxiliary resource of ``path`` for link relation ``rel``: ``/a/b`` -> ``/a/b.meta``,
    ``/a/`` -> ``/a/.meta``."""
    return path + AUXILIARY_SUFFIXES[rel]


def subject_of(path: str) -> tuple[str, str] | None:
    """For an auxiliary path, ``(subject path, rel)``; ``None`` for an ordinary resource."""
    if path.endswith("/"):
        return None
    for rel, suffix in AUXILIARY_SUFFIXES.items():
        if path.endswith(suffix):
            return path[: -len(suffix)], rel
    return None


def is_auxiliary(path: str) -> bool:
    return subject_of(path) is not None


@dataclass(frozen=True)
class IdentifierMap:
    """Maps storage paths to URLs and back for one server, and knows where the storage roots are.

    In *single-pod* mode the server root ``/`` is the one storage root. Otherwise every
    top-level container ``/{name}/`` is a storage root (a pod), reachable at
    ``{base}{name}/`` or, in subdomain mode, at ``{scheme}://{name}.{host}/``.
    """

    base_url: str
    single_pod: bool = False
    subdomains: bool = False
    max_path_length: int = 1024

    @cached_property
    def _base(self) -> tuple[str, str, str]:
        """(scheme, host, path prefix) of the base URL, split once: to_url runs on every request."""
        parts = urlsplit(self.base_url)
        return parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")

    def to_url(self, path: str) -> str:
        scheme, netloc, prefix = self._base
        if self.subdomains and path != "/":
            pod, _, rest = path[1:].partition("/")
            return f"{scheme}://{pod}.{netloc}{prefix}/{rest}"
        return f"{scheme}://{netloc}{prefix}{path}"

    def to_path(self, host: str, raw_path: str) -> str:
        """The canonical path for a request to ``host`` with the raw (still encoded) URL path."""
        _, netloc, prefix = self._base
        if prefix and raw_path.startswith(prefix + "/"):
            raw_path = raw_path[len(prefix) :]
        path = canonical_path(raw_path, max_length=self.max_path_length)
        host = host.lower()
        if self.subdomains and host != netloc and host.endswith("." + netloc):
            pod = host[: -len(netloc) - 1]
            if "." in pod or not pod:
                raise BadRequest(f"unknown host {host}")
            return canonical_path(f"/{pod}{path}", max_length=self.max_path_length)
        return path

    def storage_root(self, path: str) -> str | None:
        """The storage root that holds ``path``, or ``None`` for paths outside every storage."""
        if self.single_pod:
            return "/"
        if path == "/" or _is_server_route(path):
            return None
        return "/" + path[1:].split("/", 1)[0] + "/"

    def is_storage_root(self, path: str) -> bool:
        return self.storage_root(path) == path

    def storage_description(self, path: str) -> str | None:
        root = self.storage_root(path)
        return None if root is None else root + STORAGE_DESCRIPTION

    def is_server_managed(self, path: str) -> bool:
        """Paths the server serves itself and clients may not write: ``{root}/.well-known/...`` and
        the server's own top-level routes (:data:`SERVER_ROUTES`), which are never pods."""
        if _is_server_route(path):
            return True
        root = self.storage_root(path)
        return root is not None and path.startswith(root + WELL_KNOWN)


__all__ = [
    "AUXILIARY_SUFFIXES",
    "STORAGE_DESCRIPTION",
    "IdentifierMap",
    "auxiliary_of",
    "canonical_path",
    "canonical_segment",
    "is_auxiliary",
    "is_container",
    "name_of",
    "subject_of",
]
