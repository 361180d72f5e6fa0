"""JSON-LD processing without the network: the one pyld document loader pod-server uses.

pyld's default document loader fetches remote ``@context`` URLs with ``requests``. A server that
did that for every client body could be made to fetch arbitrary URLs (SSRF), to wait on slow
hosts, or to interpret a body differently when a remote context changes. So every pyld call in
pod-server passes :func:`offline_loader` explicitly (use :func:`pyld_options`); it serves a few
well-known contexts bundled in ``pod_server/rdf/contexts/`` and refuses every other URL with
:class:`~pod_server.errors.BadRequest` naming it.

JSON-LD 1.1 §3.1 (Processing Mode) and JSON-LD 1.1 API §9.4 (documentLoader) describe the hook.

Framing (JSON-LD 1.1 Framing §4.1) runs a client's frame over a resource's graph:
:func:`parse_frame` checks the frame's JSON (size, depth, an object) and :func:`apply_frame` runs
pyld with a loader that answers 422 for any context it would have to fetch, a cap on the values
the output may hold and on how deeply nodes may embed (a frame can ask for output quadratic in the
graph), and ``@embed: @link`` refused (it shares objects in memory, which JSON cannot write).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyld import jsonld  # type: ignore[import-untyped, unused-ignore]

from pod_server.errors import BadRequest, InvalidRdf, PodError, UnprocessableContent

CONTEXTS_DIR = Path(__file__).parent / "contexts"

BUNDLED_CONTEXTS: dict[str, str] = {
    # Solid-OIDC §5.1: Client ID documents use this context.
    "https://www.w3.org/ns/solid/oidc-context.jsonld": "solid-oidc.jsonld",
    # Solid Notifications Protocol §7: notification channel descriptions.
    "https://www.w3.org/ns/solid/notification/v1": "solid-notification-v1.jsonld",
    # The Notifications Protocol ED's name for it (P#json-ld-format), with terms for channel types.
    "https://www.w3.org/ns/solid/notifications-context/v1": "solid-notifications-context-v1.jsonld",
    # Activity Streams 2.0 §2.1 (also used by Solid notifications and ActivityPub).
    "https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    # Security Vocabulary v1 (ActivityPub actors' publicKey).
    "https://w3id.org/security/v1": "security-v1.jsonld",
    # Our community vocabulary's context (vocab/cbpp.jsonld, docs/vocabulary.md); every pod-server
    # also serves it at {base}.ns/cbpp.jsonld, an alias create_app registers (add_alias).
    "https://w3id.org/pod-server/cbpp.jsonld": "cbpp.jsonld",
}
COMMUNITY_CONTEXT = "https://w3id.org/pod-server/cbpp.jsonld"
"""The community vocabulary's context (docs/vocabulary.md), bundled: never fetched."""
"""Canonical URL of each bundled context -> file name in :data:`CONTEXTS_DIR`."""

RdfDataset = dict[str, list[dict[str, Any]]]
"""pyld's RDF dataset: graph name (``"@default"`` for the default graph) -> list of triples, each
``{"subject": {"type": "IRI"|"blank node", "value": ...}, "predicate": ..., "object": ...}``
where literal objects also carry ``datatype`` and maybe ``language``."""

DocumentLoader = Callable[..., dict[str, Any]]


def _variant_key(url: str) -> str:
    """One key for the spellings clients use for the same context: http or https, with or
    without a trailing ``#``, ``/`` or ``.jsonld``."""
    key = url.strip().split("#", 1)[0]
    scheme, sep, rest = key.partition("://")
    if not sep:
        return key
    scheme = scheme.lower()
    if scheme == "http":
        scheme = "https"
    host, slash, path = rest.partition("/")
    key = f"{scheme}://{host.lower()}{slash}{path}"
    key = key.removesuffix(".jsonld").rstrip("/")
    return key


_BY_KEY: dict[str, str] = {_variant_key(url): url for url in BUNDLED_CONTEXTS}


def add_alias(url: str, canonical: str) -> None:
    """Let ``url`` name the bundled context ``canonical`` too (e.g. this server's own copy of a
    context it serves). Idempotent; process-wide, like the bundle itself."""
    if canonical not in BUNDLED_CONTEXTS:
        raise KeyError(canonical)
    _BY_KEY[_variant_key(url)] = canonical


def bundled_url(url: str) -> str | None:
    """The canonical URL of the bundled context ``url`` names, or ``None``."""
    return _BY_KEY.get(_variant_key(url))


@functools.cache
def _load_bundled(canonical: str) -> dict[str, Any]:
    path = CONTEXTS_DIR / BUNDLED_CONTEXTS[canonical]
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def bundled_context(url: str) -> dict[str, Any]:
    """A fresh copy of the bundled document (``{"@context": ...}``) for ``url``; ``KeyError`` if none."""
    canonical = bundled_url(url)
    if canonical is None:
        raise KeyError(url)
    return copy.deepcopy(_load_bundled(canonical))


def offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pyld document loader that never touches the network.

    Returns pyld's RemoteDocument for the bundled contexts; raises ``BadRequest`` naming ``url``
    for anything else.
    """
    canonical = bundled_url(url)
    if canonical is None:
        known = ", ".join(sorted(BUNDLED_CONTEXTS))
        raise BadRequest(
            f"remote JSON-LD contexts are not fetched: {url[:300]}; "
            f"inline the context in the document or use one of: {known}"
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": canonical,
        "document": copy.deepcopy(_load_bundled(canonical)),
    }


def pyld_options(base: str | None = None, **extra: Any) -> dict[str, Any]:
    """Options for any pyld call, always with :func:`offline_loader` as the document loader."""
    options: dict[str, Any] = {"documentLoader": offline_loader, **extra}
    if base is not None:
        options["base"] = base
    options["documentLoader"] = offline_loader  # even if ``extra`` tried to set another one
    return options


def json_depth_exceeds(value: Any, max_depth: int) -> bool:
    """True when ``value`` nests arrays/objects deeper than ``max_depth`` (the top level is 1).
    Iterative, so it cannot hit Python's recursion limit."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            return True
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def load_json(text: str, max_depth: int) -> Any:
    """Parse a JSON(-LD) body: ``InvalidRdf`` with a line number when it is not JSON,
    ``BadRequest`` when it nests deeper than ``max_depth`` (checked before any JSON-LD processing)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidRdf(f"not valid JSON: {e.msg} (column {e.colno})", line=e.lineno) from None
    except RecursionError:
        # Python's own JSON parser gives up far deeper than any sane limit; that is still too deep.
        raise BadRequest(
            f"JSON nested deeper than the limit of {max_depth} levels (max_jsonld_depth)"
        ) from None
    if json_depth_exceeds(value, max_depth):
        raise BadRequest(f"JSON nested deeper than the limit of {max_depth} levels (max_jsonld_depth)")
    return value


def _pod_error_in(error: BaseException) -> PodError | None:
    """Our own error (e.g. the loader's BadRequest) somewhere in pyld's chain of wrapped causes."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, PodError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _jsonld_message(error: BaseException) -> str:
    """The innermost (most specific) message in a chain of wrapped pyld errors, on one line."""
    detail = "invalid JSON-LD"
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, jsonld.JsonLdError):
            text = str(current.args[0]) if current.args else ""
            code = getattr(current, "code", None)
            detail = f"{text} ({code})" if code else text
        else:
            detail = str(current) or type(current).__name__
        current = current.__cause__ or current.__context__
    return " ".join(detail.split())[:300]


def to_rdf(document: Any, base: str) -> RdfDataset:
    """The RDF dataset of a parsed JSON-LD ``document`` (JSON-LD 1.1 API §8.6 Deserialize
    JSON-LD to RDF), resolving relative IRIs against ``base`` and never fetching anything.

    Raises ``BadRequest`` for a remote context and ``InvalidRdf`` for invalid JSON-LD.
    """
    try:
        dataset: RdfDataset = jsonld.to_rdf(document, pyld_options(base))
    except Exception as e:  # pyld raises JsonLdError, and plain errors on odd input
        ours = _pod_error_in(e)
        if ours is not None:
            raise ours from None
        raise InvalidRdf(f"invalid JSON-LD: {_jsonld_message(e)}") from None
    return dataset


# --------------------------------------------------------------------------------------------
# Framing (JSON-LD 1.1 Framing)
# --------------------------------------------------------------------------------------------

MAX_FRAME_BYTES = 16 * 1024
"""The largest frame accepted, in UTF-8 bytes of its JSON text."""
MAX_FRAME_DEPTH = 32
"""How deeply a frame's JSON may nest (arrays and objects; the top level is 1)."""
MAX_FRAMED_VALUES = 100_000
"""How many values (node objects, references and literals) a framed document may hold."""
MAX_EMBED_DEPTH = 64
"""How many node objects deep a framed document may embed."""


@dataclass(frozen=True, slots=True)
class JsonLdFrame:
    """A frame a client sent (JSON-LD 1.1 Framing §4.1), as canonical JSON text.

    Equal frames have equal ``text`` (keys sorted, no whitespace) and ``digest`` (its SHA-256,
    for cache keys). :meth:`document` gives a fresh copy each time: pyld may change the frame it
    is given.
    """

    text: str
    digest: str

    def document(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.text)
        return value


def parse_frame(text: str) -> JsonLdFrame:
    """The frame in ``text`` (JSON). ``BadRequest`` (400) when it is larger than
    :data:`MAX_FRAME_BYTES`, not JSON, nested deeper than :data:`MAX_FRAME_DEPTH`, or not a JSON
    object. Its contexts are checked when it is applied (:func:`apply_frame`)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FRAME_BYTES:
        raise BadRequest(
            f"the JSON-LD frame is {size} bytes; the limit is {MAX_FRAME_BYTES} bytes "
            "(shorten it, e.g. with a shorter @context)"
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadRequest(
            f"the JSON-LD frame is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        ) from None
    except RecursionError:  # deeper than Python's own parser goes
        value = None
        too_deep = True
    else:
        too_deep = json_depth_exceeds(value, MAX_FRAME_DEPTH)
    if too_deep:
        raise BadRequest(f"the JSON-LD frame nests deeper than the limit of {MAX_FRAME_DEPTH} levels")
    if not isinstance(value, dict):
        raise BadRequest(
            'a JSON-LD frame is a JSON object, e.g. {"@context": {"@vocab": '
            '"http://xmlns.com/foaf/0.1/"}, "@type": "Person"}'
        )
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return JsonLdFrame(canonical, digest)


def _frame_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The loader for frames: the bundled contexts, and 422 for any other URL."""
    if bundled_url(url) is None:
        known = ", ".join(sorted(BUNDLED_CONTEXTS))
        raise UnprocessableContent(
            f"the frame names the remote JSON-LD context {url[:300]}, and remote contexts are "
            f"never fetched; write the context inline in the frame's @context, or use one of: {known}"
        )
    return offline_loader(url, options)


class _BoundedFraming(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's framing with limits on the output. It overrides three of pyld's internal methods
    (checked by tests/rdf/test_jsonld_frame.py, so a pyld upgrade that renames them shows)."""

    def __init__(self, max_values: int, max_depth: int) -> None:
        super().__init__()
        self.values_left = max_values
        self.max_values = max_values
        self.max_depth = max_depth

    def _match_frame(
        self, state: dict[str, Any], subjects: Any, frame: Any, parent: Any, property: Any
    ) -> None:
        # subjectStack holds the node objects being embedded, outermost first.
        if len(state["subjectStack"]) >= self.max_depth:
            raise UnprocessableContent(
                f"the frame embeds node objects more than {self.max_depth} levels deep; "
                'stop the nesting with "@embed": "@never" on a deep property'
            )
        super()._match_frame(state, subjects, frame, parent, property)

    def _get_frame_flag(self, frame: Any, options: dict[str, Any], name: str) -> Any:
        value = super()._get_frame_flag(frame, options, name)
        if name == "embed" and value == "@link":
            # JSON-LD 1.1 Framing §4.1: @link shares node objects in memory; JSON cannot write that.
            raise UnprocessableContent(
                '"@embed": "@link" cannot be written as JSON; use "@once", "@always" or "@never"'
            )
        return value

    def _add_frame_output(self, parent: Any, property: Any, output: Any) -> None:
        self.values_left -= 1
        if self.values_left < 0:
            raise UnprocessableContent(
                f"the framed document would hold more than {self.max_values} values; narrow the "
                'frame (match fewer nodes) or embed less ("@embed": "@never" or "@once")'
            )
        super()._add_frame_output(parent, property, output)

    def _compact_iri(
        self,
        active_ctx: dict[str, Any],
        iri: Any,
        value: Any = None,
        vocab: bool = False,
        base: Any = None,
        reverse: bool = False,
    ) -> Any:
        # Our JSON-LD carries absolute IRIs: relative only to a @base the frame's context sets.
        if "@base" not in active_ctx:
            base = None
        return super()._compact_iri(active_ctx, iri, value, vocab, base, reverse)


def apply_frame(
    nodes: list[dict[str, Any]],
    frame: JsonLdFrame,
    base: str,
    *,
    max_values: int = MAX_FRAMED_VALUES,
    max_depth: int = MAX_EMBED_DEPTH,
) -> Any:
    """The framed document (JSON-LD 1.1 Framing §4.1, the API's ``frame()``) of ``nodes``, a
    graph in expanded form, with JSON-LD 1.1 defaults (``@embed: @once``; one match is written
    as its node object, several under ``@graph``). Relative IRIs in the frame resolve against
    ``base``; the output's IRIs are absolute unless the frame's context sets ``@base``.

    Raises ``UnprocessableContent`` (422) for a context that is not bundled, ``@embed: @link``,
    or output beyond ``max_values`` values or ``max_depth`` embedded levels; ``BadRequest`` (400)
    for a frame pyld rejects (e.g. an invalid ``@type`` value).
    """
    processor = _BoundedFraming(max_values, max_depth)
    options = pyld_options(base, embed="@once", processingMode="json-ld-1.1")
    options["documentLoader"] = _frame_loader  # bundled contexts only, like offline_loader
    try:
        return processor.frame(nodes, frame.document(), options)
    except RecursionError:
        raise UnprocessableContent(
            'the frame nests too deeply to apply; use "@embed": "@never" on a deep property'
        ) from None
    except Exception as e:  # pyld raises JsonLdError, and plain errors on odd input
        ours = _pod_error_in(e)
        if ours is not None:
            raise ours from None
        raise BadRequest(f"the JSON-LD frame cannot be applied: {_jsonld_message(e)}") from None


__all__ = [
    "BUNDLED_CONTEXTS",
    "COMMUNITY_CONTEXT",
    "CONTEXTS_DIR",
    "MAX_EMBED_DEPTH",
    "MAX_FRAMED_VALUES",
    "MAX_FRAME_BYTES",
    "MAX_FRAME_DEPTH",
    "JsonLdFrame",
    "RdfDataset",
    "add_alias",
    "apply_frame",
    "bundled_context",
    "bundled_url",
    "json_depth_exceeds",
    "load_json",
    "offline_loader",
    "parse_frame",
    "pyld_options",
    "to_rdf",
]
