"""Flask request -> :class:`~pod_server.ldp.model.Operation`. The only place that reads ``flask.request``
for the LDP routes."""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Request
from werkzeug.http import parse_date

from pod_server.errors import BadRequest, PayloadTooLarge
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.ldp.model import Body, Conditions, Operation, Page
from pod_server.ldp.operations import PATCH_TYPES
from pod_server.rdf import formats
from pod_server.rdf.jsonld import JsonLdFrame, parse_frame
from pod_server.rdf.patch import parse_patch

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_PARAM = re.compile(r';\s*([a-zA-Z*]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))')
_MAX_MEMBERS = re.compile(r'max-member-count\s*=\s*"?(\d+)"?')

BODY_METHODS = frozenset({"PUT", "POST", "PATCH"})
FRAME_PARAMETER = "frame"
"""The query parameter that carries a JSON-LD frame (docs/jsonld.md)."""
FRAME_HEADER = "JSON-LD-Frame"
"""The request header that carries a JSON-LD frame (docs/jsonld.md); responses Vary on it."""


def raw_path(request: Request) -> str:
    """The request path exactly as sent (still percent-encoded), without the query."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        if "://" in raw.split("?", 1)[0]:  # absolute-form request target (RFC 9112 §3.2.2)
            raw = "/" + raw.split("://", 1)[1].split("/", 1)[-1] if "/" in raw.split("://", 1)[1] else "/"
        return raw.split("?", 1)[0].split("#", 1)[0] or "/"
    path_info = request.environ.get("PATH_INFO", "/")
    return quote(path_info.encode("latin-1").decode("utf-8", "replace"), safe="/-._~!$&'()*+,;=:@%")


def link_types(header: str | None) -> frozenset[str]:
    """The targets of ``rel="type"`` links in a Link header (RFC 8288)."""
    if not header:
        return frozenset()
    found = set()
    for match in _LINK.finditer(header):
        target, params = match.group(1), match.group(2)
        for p in _PARAM.finditer(params):
            if p.group(1).lower() == "rel":
                rels = (p.group(2) if p.group(2) is not None else p.group(3) or "").split()
                if "type" in rels:
                    found.add(target.strip())
    return frozenset(found)


def _etags(header: str | None) -> tuple[str, ...] | None:
    if header is None:
        return None
    header = header.strip()
    if header == "*":
        return ("*",)
    tags = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if len(part) >= 2 and part.startswith('"') and part.endswith('"'):
            tags.append(part[1:-1])
        elif part:
            raise BadRequest(f'malformed entity tag {part!r}: entity tags are quoted, e.g. "abc"')
    return tuple(tags)


def _date(header: str | None) -> float | None:
    if not header:
        return None
    parsed = parse_date(header)
    return parsed.timestamp() if parsed else None


def conditions(request: Request) -> Conditions:
    h = request.headers
    return Conditions(
        if_match=_etags(h.get("If-Match")),
        if_none_match=_etags(h.get("If-None-Match")),
        if_modified_since=_date(h.get("If-Modified-Since")),
        if_unmodified_since=_date(h.get("If-Unmodified-Since")),
    )


def _page(request: Request, path: str, default_size: int) -> Page | None:
    if not path.endswith("/") or request.method not in {"GET", "HEAD"}:
        return None
    args = request.args
    size_arg = args.get("page-size")
    if size_arg is not None or "page-after" in args:
        try:
            size = int(size_arg) if size_arg is not None else default_size
        except ValueError:
            raise BadRequest("page-size must be a whole number, e.g. ?page-size=100") from None
        if size < 1:
            raise BadRequest("page-size must be at least 1")
        after = args.get("page-after")
        return Page(size=size, after=(path + after) if after else None)
    prefer = request.headers.get("Prefer", "")
    match = _MAX_MEMBERS.search(prefer)
    if match:
        return Page(size=max(1, int(match.group(1))))
    return None


def jsonld_frame(request: Request) -> JsonLdFrame | None:
    """The JSON-LD frame (JSON-LD 1.1 Framing) a GET or HEAD sent, percent-encoded in
    ``?frame=`` or as the ``JSON-LD-Frame`` header; other methods ignore both. 400 when it is
    sent more than once or is not a valid frame (``parse_frame``)."""
    if request.method not in {"GET", "HEAD"}:
        return None
    in_query = request.args.getlist(FRAME_PARAMETER)
    in_header = request.headers.getlist(FRAME_HEADER)
    if not in_query and not in_header:
        return None
    if len(in_query) + len(in_header) > 1:
        raise BadRequest(
            f"send one JSON-LD frame: either ?{FRAME_PARAMETER}= or a {FRAME_HEADER} header, once"
        )
    if in_query:
        return parse_frame(in_query[0])
    try:
        # Header values arrive as ISO-8859-1 (RFC 9110 §5.5); a client may have sent UTF-8.
        text = in_header[0].encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise BadRequest(
            f"the {FRAME_HEADER} header is not UTF-8; write non-ASCII characters as \\uXXXX escapes"
        ) from None
    return parse_frame(text)


def read_body(request: Request, max_bytes: int) -> bytes:
    # We cap the body ourselves: werkzeug's MAX_CONTENT_LENGTH silently truncates a chunked body.
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(f"the body is {declared} bytes; this server accepts at most {max_bytes}")
    data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than the {max_bytes} bytes this server accepts")
    return data


def to_operation(
    request: Request, ids: IdentifierMap, *, max_body_bytes: int, default_page_size: int
) -> Operation:
    path = ids.to_path(request.host, raw_path(request))
    method = request.method.upper()
    body = None
    if method in BODY_METHODS:
        data = read_body(request, max_body_bytes)
        body = Body(data, request.headers.get("Content-Type", ""))
    accept = request.headers.get("Accept", "*/*")
    profile = formats.accept_params(accept, formats.JSONLD).get("profile")
    slug = request.headers.get("Slug")
    url = ids.to_url(path)
    patch = None
    if method == "PATCH" and body is not None and formats.essence(body.content_type) in PATCH_TYPES:
        # Parsed once, here: access control needs to know what it does (Solid Protocol §5.3.1).
        patch = parse_patch(body.data, body.content_type, url)
    return Operation(
        method=method,
        path=path,
        url=url,
        accept=accept,
        conditions=conditions(request),
        body=body,
        slug=slug,
        link_types=link_types(request.headers.get("Link")),
        range=request.headers.get("Range"),
        page=_page(request, path, default_page_size),
        jsonld_profile=profile,
        patch=patch,
        jsonld_frame=jsonld_frame(request),
    )


__all__ = [
    "FRAME_HEADER",
    "FRAME_PARAMETER",
    "conditions",
    "jsonld_frame",
    "link_types",
    "raw_path",
    "read_body",
    "to_operation",
]
