"""One function per HTTP method: ``fn(operation, context) -> Result``.

The functions translate an :class:`~pod_server.ldp.model.Operation` into calls on the
:class:`~pod_server.store.resource_store.ResourceStore` and choose the representation
(content negotiation, ranges, pages). They never touch Flask.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import Graph, URIRef

from pod_server.errors import (
    BadRequest,
    Conflict,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    RangeNotSatisfiable,
    UnsupportedMediaType,
)
from pod_server.ldp import conditions
from pod_server.ldp.containers import container_turtle
from pod_server.ldp.identifiers import subject_of
from pod_server.ldp.model import Operation, Result
from pod_server.ldp.representation_cache import RepresentationCache
from pod_server.rdf import formats
from pod_server.rdf.convert import jsonld_content_type, jsonld_profiles, parse, serialize
from pod_server.rdf.patch import parse_patch
from pod_server.store.backend import Meta, Stored
from pod_server.store.resource_store import _TRUSTED, ResourceStore
from pod_server.vocab import JSONLD, LDP, PIM, RDF

PATCH_TYPES = (formats.N3, formats.SPARQL_UPDATE)
CONTAINER_TYPES = frozenset({str(LDP.BasicContainer), str(LDP.Container)})


@dataclass(frozen=True)
class Context:
    store: ResourceStore
    default_page_size: int = 1000
    cache: RepresentationCache = field(default_factory=lambda: RepresentationCache(0))
    describers: tuple[Callable[[Graph, URIRef], None], ...] = ()
    """Add statements about a storage to its description (e.g. the notification services)."""


Handler = Callable[[Operation, Context], Result]


# -- reading -----------------------------------------------------------------------------------
def get(op: Operation, ctx: Context) -> Result:
    store = ctx.store
    if store.ids.storage_description(op.path) == op.path:
        return _storage_description(op, ctx)
    # A document without preconditions is read once; with them, its metadata is tested first so
    # a 304 or 412 never reads the body.
    stored: Stored | None = None
    try:
        if op.conditions.empty and not op.path.endswith("/"):
            stored = store.read(op.path)
            meta = stored.meta
        else:
            meta = store.stat(op.path)
    except NotFound:
        found = subject_of(op.path)
        if found is not None and found[1] == "describedby" and _exists(store, found[0]):
            # Solid Protocol §4.3: every resource has a description resource; until a client
            # writes one, it is empty.
            return _rdf_result(op, Graph(bind_namespaces="none"), None)
        raise
    try:
        conditions.evaluate(op.conditions, meta, safe=True)
    except conditions.NotModified:
        return Result(304, meta=meta)
    if meta.is_container:
        return _constrained_by(ctx, op.path, _get_container(op, ctx, meta))
    if stored is None:
        stored = store.read(op.path)
    if formats.is_rdf(stored.meta.content_type):
        chosen = _negotiate_rdf(op)
        if chosen == formats.TURTLE:
            return _bytes_result(op, stored.meta, stored.body, formats.TURTLE)
        key = (op.path, stored.meta.etag, *_form(op, chosen))
        body = ctx.cache.get(key)
        if body is None:
            graph = parse(stored.body, formats.TURTLE, op.url, _TRUSTED)
            body = _rdf_result(op, graph, stored.meta, chosen).body or b""
            ctx.cache.put(key, body)
        return Result(200, meta=stored.meta, body=body, content_type=_content_type(op, chosen))
    if op.jsonld_frame is not None:
        raise NotAcceptable(
            f"a JSON-LD frame applies to RDF sources; this resource is {stored.meta.content_type}. "
            "Fetch it without a frame"
        )
    if (
        formats.negotiate(
            op.accept, [formats.essence(stored.meta.content_type) or "application/octet-stream"]
        )
        is None
    ):
        raise NotAcceptable(
            f"this resource is only available as {stored.meta.content_type}; add it (or */*) to Accept"
        )
    return _bytes_result(op, stored.meta, stored.body, stored.meta.content_type)


def _exists(store: ResourceStore, path: str) -> bool:
    try:
        store.stat(path)
    except NotFound:
        return False
    return True


def _negotiate_rdf(op: Operation) -> str:
    if op.jsonld_frame is not None:
        # A frame asks for framed JSON-LD (JSON-LD 1.1 Framing), whatever else Accept lists.
        if formats.negotiate(op.accept, [formats.JSONLD]) is None:
            raise NotAcceptable(
                f"a JSON-LD frame gives {formats.JSONLD}; add it (or */*) to Accept, or drop the frame"
            )
        return formats.JSONLD
    chosen = formats.negotiate(op.accept, formats.WRITABLE)
    if chosen is None:
        raise NotAcceptable(
            "this RDF source is available as "
            + ", ".join(formats.WRITABLE)
            + "; ask for one of them in Accept"
        )
    if chosen == formats.JSONLD and str(JSONLD.framed) in (op.jsonld_profile or "").split():
        # The IANA registration of application/ld+json: the framed profile asks for a framed
        # document, and there is nothing to frame with.
        raise NotAcceptable(
            f'the profile "{JSONLD.framed}" needs a frame: send it as ?frame=<JSON> or in a '
            "JSON-LD-Frame header (docs/jsonld.md)"
        )
    return chosen


def _form(op: Operation, chosen: str) -> tuple[str, ...]:
    """What, besides the resource's ETag, the representation ``chosen`` for ``op`` depends on:
    the cache key's tail. For JSON-LD, the form (profiles) and the frame."""
    if chosen != formats.JSONLD:
        return (chosen,)
    if op.jsonld_frame is not None:  # the frame alone decides the framed document
        return (chosen, "framed", op.jsonld_frame.digest)
    return (chosen, " ".join(jsonld_profiles(op.jsonld_profile)))


def _content_type(op: Operation, chosen: str) -> str:
    """``chosen``, with the JSON-LD profile parameter naming the form written (if asked for)."""
    if chosen != formats.JSONLD:
        return chosen
    return jsonld_content_type(op.jsonld_profile, framed=op.jsonld_frame is not None)


def _get_container(op: Operation, ctx: Context, meta: Meta) -> Result:
    store = ctx.store
    chosen = _negotiate_rdf(op)
    page = op.page
    if page is None:
        # The whole listing is determined by the container's ETag: reuse it while that holds.
        key = (op.path, meta.etag, *_form(op, chosen))
        cached = ctx.cache.get(key)
        if cached is not None:
            return Result(200, meta=meta, body=cached, content_type=_content_type(op, chosen))
    view = store.read_container(
        op.path, after=page.after if page else None, limit=page.size if page else None
    )
    body = container_turtle(view, store.ids.to_url)
    result: Result
    if chosen == formats.TURTLE:
        result = Result(200, meta=view.meta, body=body, content_type=formats.TURTLE)
    else:
        graph = parse(body, formats.TURTLE, op.url, _TRUSTED)
        result = _rdf_result(op, graph, view.meta, chosen)
    if page is None:
        ctx.cache.put((op.path, view.meta.etag, *_form(op, chosen)), result.body or b"")
    else:
        result.headers["Preference-Applied"] = f'return=representation; max-member-count="{page.size}"'
        result.link(str(LDP.Page), "type")
        if view.next_after is not None:
            after = view.next_after.rstrip("/").rsplit("/", 1)[-1] + (
                "/" if view.next_after.endswith("/") else ""
            )
            result.link(f"{store.ids.to_url(op.path)}?page-size={page.size}&page-after={after}", "next")
    return result


def _rdf_result(op: Operation, graph: Graph, meta: Meta | None, chosen: str | None = None) -> Result:
    chosen = chosen or _negotiate_rdf(op)
    jsonld = chosen == formats.JSONLD
    body = serialize(
        graph,
        chosen,
        op.url,
        jsonld_profile=op.jsonld_profile if jsonld else None,
        jsonld_frame=op.jsonld_frame if jsonld else None,
    )
    return Result(200, meta=meta, body=body, content_type=_content_type(op, chosen))


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def _bytes_result(op: Operation, meta: Meta, body: bytes, content_type: str) -> Result:
    """Stored bytes as they are, honouring a single byte range (RFC 9110 §14)."""
    if op.range and op.method == "GET":
        match = _RANGE.match(op.range)
        if match and (match.group(1) or match.group(2)):
            size = len(body)
            first, last = match.group(1), match.group(2)
            if first:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
                if last and int(last) < start:
                    raise BadRequest("the Range header's last byte is before its first")
            else:
                suffix = int(last)
                start, end = max(0, size - suffix), size - 1
                if suffix == 0:
                    raise RangeNotSatisfiable("a suffix range of 0 bytes selects nothing", size=size)
            if start >= size:
                raise RangeNotSatisfiable(
                    f"the resource has {size} bytes; the range starts after its end", size=size
                )
            result = Result(206, meta=meta, body=body[start : end + 1], content_type=content_type)
            result.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            return result
        # RFC 9110 §14.2: a Range we do not support (several ranges, other units) may be ignored.
    return Result(200, meta=meta, body=body, content_type=content_type)


def _storage_description(op: Operation, ctx: Context) -> Result:
    """Solid Protocol §4.1: the storage description resource of the storage holding ``op.path``."""
    ids = ctx.store.ids
    root = ids.storage_root(op.path)
    assert root is not None
    if not _exists(ctx.store, root):
        raise NotFound(f"the storage {ids.to_url(root)} does not exist")
    graph = Graph(bind_namespaces="none")
    storage = URIRef(ids.to_url(root))
    graph.add((storage, RDF.type, PIM.Storage))
    for describe in ctx.describers:
        describe(graph, storage)
    return _rdf_result(op, graph, None)


def head(op: Operation, ctx: Context) -> Result:
    return get(op, ctx)


def options(op: Operation, ctx: Context) -> Result:
    try:
        meta = ctx.store.stat(op.path)
    except NotFound:
        meta = None
    result = Result(204, meta=meta)
    return _constrained_by(ctx, op.path, result) if meta is not None and meta.is_container else result


def _constrained_by(ctx: Context, path: str, result: Result) -> Result:
    """LDP §4.2.1.6: a constrained container names its constraints with ``Link rel=constrainedBy``
    on GET, HEAD and OPTIONS (docs/shapes.md)."""
    constraint = ctx.store.constraints.applying_to(path)
    if constraint is not None:
        for shape in constraint.shapes:
            result.link(shape, str(LDP.constrainedBy))
    return result


# -- writing -----------------------------------------------------------------------------------
def _require_body(op: Operation) -> tuple[bytes, str]:
    if op.body is None or not op.body.content_type:
        # Solid Protocol §5.3: servers MUST reject PUT, POST and PATCH without Content-Type with 400.
        raise BadRequest(
            "send a Content-Type header: text/turtle, application/ld+json, ... for RDF, "
            "or any type for a file"
        )
    return op.body.data, op.body.content_type


def _checker(op: Operation) -> Callable[[Meta | None], None]:
    def check(meta: Meta | None) -> None:
        conditions.evaluate(op.conditions, meta, safe=False)

    return check


def put(op: Operation, ctx: Context) -> Result:
    data, content_type = _require_body(op)
    wants_container = bool(op.link_types & CONTAINER_TYPES)
    if wants_container and not op.path.endswith("/"):
        raise Conflict("a container's URL must end with '/'; add it, or drop the ldp:BasicContainer Link")
    written = ctx.store.put(op.path, data, content_type, op.url, check=_checker(op))
    if written.created:
        return Result(201, meta=written.meta, location=op.path)
    return Result(204, meta=written.meta)


def post(op: Operation, ctx: Context) -> Result:
    data, content_type = _require_body(op)
    store = ctx.store
    if not op.path.endswith("/"):
        if _exists(store, op.path):
            raise MethodNotAllowed(
                "POST creates resources inside a container; this is a document",
                allow=("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"),
            )
        raise NotFound(f"{op.url} does not exist")
    try:
        conditions.evaluate(op.conditions, store.stat(op.path), safe=False)
    except NotFound:
        raise NotFound(f"the container {op.url} does not exist; create it first with PUT") from None
    meta = store.create_child(
        op.path,
        data,
        content_type,
        slug=op.slug,
        as_container=bool(op.link_types & CONTAINER_TYPES),
        base_of=store.ids.to_url,
    )
    return Result(201, meta=meta, location=meta.path)


def patch(op: Operation, ctx: Context) -> Result:
    data, content_type = _require_body(op)
    if formats.essence(content_type) not in PATCH_TYPES:
        raise UnsupportedMediaType(
            f"PATCH takes {' or '.join(PATCH_TYPES)}; to replace the whole resource, use PUT"
        )
    parsed = op.patch if op.patch is not None else parse_patch(data, content_type, op.url)
    written = ctx.store.patch(op.path, parsed, op.url, check=_checker(op))
    if written.created:
        return Result(201, meta=written.meta, location=op.path)
    return Result(204, meta=written.meta)


def delete(op: Operation, ctx: Context) -> Result:
    ctx.store.delete(op.path, check=_checker(op))
    return Result(204)


HANDLERS: dict[str, Handler] = {
    "GET": get,
    "HEAD": head,
    "OPTIONS": options,
    "PUT": put,
    "POST": post,
    "PATCH": patch,
    "DELETE": delete,
}

__all__ = ["HANDLERS", "Context", "Handler"]
