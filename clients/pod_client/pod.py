"""Reading and writing a pod's resources through a :class:`pod_client.session.Session`.

:class:`Pod` speaks only the standard Solid Protocol, so it works with any Solid server:

- **RDF graphs** (rdflib): :meth:`Pod.get_graph` asks for Turtle first (``Accept: text/turtle,
  application/ld+json;q=0.9, ...``) and parses whatever comes back by its ``Content-Type``;
  :meth:`Pod.put_graph` writes a whole graph; :meth:`Pod.patch_graph` sends the difference between
  two graphs as an N3 Patch (Solid Protocol §5.3.1); :meth:`Pod.update_graph` does read, change,
  PATCH with ``If-Match`` and, when someone else wrote in between (412), reads again and retries.
- **Files**: :meth:`Pod.read`, and streamed :meth:`Pod.download` / :meth:`Pod.upload` with progress
  callbacks (a large file is never held in memory).
- **Containers**: :meth:`Pod.list` (following ``Link: <...>; rel="next"`` pages when the server
  offers them), :meth:`Pod.create_container`, :meth:`Pod.delete` (recursively, children first).
- :meth:`Pod.storage_of` finds the storage root that holds a resource (Solid Protocol §4.1).

Failures raise the exception tree of :mod:`pod_client.errors`.

JSON-LD is parsed only when it is self-contained: a document whose ``@context`` (or ``@import``)
names a remote URL is refused with :class:`pod_client.errors.PodClientError` rather than fetched,
so reading a resource never makes the client fetch an address a server chose. Turtle is asked for
first, and every Solid server must serve RDF as Turtle (Solid Protocol §5.5), so in practice this
does not arise.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

import requests
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pod_client.errors import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    PodClientError,
    PreconditionFailed,
    raise_for_status,
)
from pod_client.links import links, parent, without_query
from pod_client.vocab import DCTERMS, IANA_MEDIA_TYPES, LDP, PIM, RDF, SOLID, STAT

if TYPE_CHECKING:
    from pod_client.session import Session

Progress = Callable[[int, int | None], None]
"""``progress(done_bytes, total_bytes_or_None)``, called as bytes go."""

RDF_ACCEPT = (
    "text/turtle, application/ld+json;q=0.9, application/n-triples;q=0.8, text/n3;q=0.7, "
    "application/rdf+xml;q=0.5"
)
"""What :meth:`Pod.get_graph` asks for: Turtle first (see the module docstring on JSON-LD)."""

RDF_FORMATS: dict[str, str] = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "text/n3": "n3",
    "application/rdf+xml": "xml",
}
"""Media type -> rdflib format name, for parsing and serializing."""

N3_PATCH = "text/n3"
CHUNK_SIZE = 1 << 16
_AUX_SUFFIXES = (".acl", ".meta")
"""Names of auxiliary resources on the servers we know (NSS, CSS, pod-server); they are found through
``Link`` headers (Solid Protocol §4.3), the names only tell listed ones apart from ordinary children."""


@dataclass(frozen=True)
class Entry:
    """One child of a container, as the container's listing describes it. ``size``, ``modified``
    and ``content_type`` are ``None`` when the server does not say (listings are not required to)."""

    url: str
    is_container: bool
    size: int | None = None
    modified: datetime | None = None
    content_type: str | None = None

    @property
    def name(self) -> str:
        """The last path segment (with its trailing "/" for a container)."""
        path = urlsplit(self.url).path
        stem = path.rstrip("/").rsplit("/", 1)[-1]
        return stem + ("/" if path.endswith("/") and stem else "")


@dataclass
class Document:
    """A graph with the ETag it was read at (``None`` when the server sent none)."""

    url: str
    graph: Graph
    etag: str | None
    content_type: str


# -- RDF in and out ----------------------------------------------------------------------------------


def essence(content_type: str | None) -> str:
    """``"text/turtle"`` from ``"text/turtle; charset=utf-8"`` (lower case, no parameters)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _remote_contexts(node: Any) -> Iterator[str]:
    """Every remote context URL in a JSON-LD document: string ``@context`` values, and ``@import``
    in context objects (JSON-LD 1.1 §4.1.10)."""
    if isinstance(node, list):
        for item in node:
            yield from _remote_contexts(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                for context in value if isinstance(value, list) else [value]:
                    if isinstance(context, str):
                        yield context
                    elif isinstance(context, dict):
                        if isinstance(context.get("@import"), str):
                            yield context["@import"]
                        yield from _remote_contexts(context)
            else:
                yield from _remote_contexts(value)


def parse_rdf(data: bytes, content_type: str, base: str) -> Graph:
    """``data`` parsed as ``content_type`` with ``base`` for relative IRIs. JSON-LD with a remote
    context is refused (:class:`PodClientError`), never fetched."""
    media_type = essence(content_type)
    rdflib_format = RDF_FORMATS.get(media_type)
    if rdflib_format is None:
        raise PodClientError(
            f"{base} is {media_type or 'untyped'}, not RDF: read it with read() or download()"
        )
    graph = Graph()
    try:
        if rdflib_format == "json-ld":
            document = json.loads(data)
            remote = next(_remote_contexts(document), None)
            if remote is not None:
                raise PodClientError(
                    f"{base}: the JSON-LD names a remote @context ({remote}), which this client does "
                    "not fetch; ask for text/turtle instead",
                    url=base,
                )
            graph.parse(data=json.dumps(document), format="json-ld", publicID=base)
        else:
            graph.parse(data=data, format=rdflib_format, publicID=base)
    except PodClientError:
        raise
    except Exception as exc:  # rdflib raises many kinds: all mean "this is not valid RDF"
        raise PodClientError(f"{base}: the {media_type} does not parse: {exc}", url=base) from None
    return graph


def serialize_rdf(graph: Graph, content_type: str) -> bytes:
    """``graph`` written as ``content_type`` (one of :data:`RDF_FORMATS`), UTF-8."""
    rdflib_format = RDF_FORMATS.get(essence(content_type))
    if rdflib_format is None:
        raise ValueError(f"cannot write RDF as {content_type!r}; use one of {', '.join(RDF_FORMATS)}")
    return graph.serialize(format=rdflib_format, encoding="utf-8")


def copy_graph(graph: Graph) -> Graph:
    """A new graph with the same triples and prefixes (blank nodes keep their identity)."""
    copy = Graph()
    for prefix, namespace in graph.namespaces():
        copy.bind(prefix, namespace, override=True, replace=True)
    for triple in graph:
        copy.add(triple)
    return copy


Triple = tuple[Node, Node, Node]


def _formula(triples: set[Triple]) -> str:
    lines = sorted(" ".join(term.n3() for term in triple) + " ." for triple in triples)
    return "{\n" + "".join(f"    {line}\n" for line in lines) + "  }"


def n3_patch(deletes: set[Triple], inserts: set[Triple]) -> str:
    """An N3 Patch document (Solid Protocol §5.3.1) deleting then inserting these triples.

    The spec forbids blank nodes in ``solid:deletes`` and ``solid:inserts`` (a server answers 422),
    so a triple with a blank node raises :class:`ValueError`."""
    for triple in deletes | inserts:
        if any(isinstance(term, BNode) for term in triple):
            shown = " ".join(term.n3() for term in triple)
            raise ValueError(
                f"blank nodes cannot be patched (Solid Protocol §5.3.1), in: {shown}. "
                "Give the node an IRI (e.g. <#name>), or write the whole graph with put_graph()"
            )
    parts = [f"_:patch a {SOLID.InsertDeletePatch.n3()}"]
    if deletes:
        parts.append(f"  {SOLID.deletes.n3()} {_formula(deletes)}")
    if inserts:
        parts.append(f"  {SOLID.inserts.n3()} {_formula(inserts)}")
    return ";\n".join(parts) + ".\n"


# -- HTTP helpers ------------------------------------------------------------------------------------


def _conditions(etag: str | None) -> dict[str, str]:
    """RFC 9110 §13.1: ``If-Match`` for a known version, ``If-None-Match: *`` for "create only"."""
    if etag is None:
        return {}
    if etag == "*":
        return {"If-None-Match": "*"}
    return {"If-Match": etag}


class _ProgressReader(io.RawIOBase):
    """A readable stream over ``source`` that reports each chunk handed to the connection.

    ``len()`` is the number of bytes to send, so requests sets ``Content-Length`` instead of chunked
    transfer coding (not every server takes a chunked request body); ``seek``/``tell`` work relative
    to where ``source`` stood, so a session can rewind it to answer a DPoP-Nonce challenge."""

    def __init__(self, source: IO[bytes], total: int, progress: Progress | None) -> None:
        super().__init__()
        self._source = source
        self._start = source.tell()
        self._total = total
        self._done = 0
        self._progress = progress

    def __len__(self) -> int:
        return self._total

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._done

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence != os.SEEK_SET:
            raise io.UnsupportedOperation("only absolute seeks")
        self._source.seek(self._start + offset)
        self._done = offset
        return offset

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._source.read(min(len(view), self._total - self._done))
        count = len(chunk)
        view[:count] = chunk
        self._done += count
        if count and self._progress is not None:
            self._progress(self._done, self._total)
        return count


def _chunks(source: IO[bytes], progress: Progress | None, chunk_size: int) -> Iterator[bytes]:
    """A stream of unknown length, sent with chunked transfer coding."""
    done = 0
    while chunk := source.read(chunk_size):
        done += len(chunk)
        yield chunk
        if progress is not None:
            progress(done, None)


def _size_of(source: IO[bytes]) -> int | None:
    """The bytes left in ``source``, when it can tell (a file or a BytesIO; not a pipe)."""
    try:
        if not source.seekable():
            return None
        here = source.tell()
        end = source.seek(0, os.SEEK_END)
        source.seek(here)
    except (OSError, AttributeError, ValueError):
        return None
    return end - here


# -- the pod -----------------------------------------------------------------------------------------


class Pod:
    """Resources on Solid servers, read and written through ``session`` (anonymous or logged in).

    Every method takes absolute URLs, so one ``Pod`` works across pods and servers; a URL ending in
    "/" is a container (Solid Protocol §3.1). HTTP failures raise :mod:`pod_client.errors`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        data: bytes | IO[bytes] | Iterator[bytes] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        response = self.session.request(method, url, headers=headers, data=data, stream=stream)
        if response.status_code >= 400:
            try:
                raise_for_status(response)
            finally:
                response.close()
        return response

    # -- graphs ------------------------------------------------------------------------------------

    def get_graph(self, url: str) -> Document:
        """The RDF resource at ``url`` as a graph, with its ETag. Any RDF syntax the server answers
        in is parsed (Turtle, JSON-LD without remote contexts, N-Triples, N3, RDF/XML)."""
        response = self._request("GET", url, headers={"Accept": RDF_ACCEPT})
        content_type = essence(response.headers.get("Content-Type"))
        graph = parse_rdf(response.content, content_type, without_query(url))
        return Document(url, graph, response.headers.get("ETag"), content_type)

    def put_graph(
        self, url: str, graph: Graph, *, etag: str | None = None, format: str = "text/turtle"
    ) -> str | None:
        """Replace (or create) ``url`` with ``graph``, written as ``format``; the new ETag.
        ``etag`` makes it conditional: only if the resource is still at that version (``If-Match``;
        else :class:`PreconditionFailed`), or, with ``"*"``, only if it does not exist yet."""
        body = serialize_rdf(graph, format)
        headers = {"Content-Type": format, **_conditions(etag)}
        response = self._request("PUT", url, headers=headers, data=body)
        response.close()
        return response.headers.get("ETag")

    def patch_graph(self, url: str, old: Graph, new: Graph, *, etag: str | None = None) -> str | None:
        """Change ``url`` from ``old`` to ``new`` with one N3 Patch holding exactly the difference
        (Solid Protocol §5.3.1); the new ETag. Triples others added meanwhile are kept; a triple to
        delete that is gone already makes the server answer 409 (:class:`Conflict`). ``etag`` as in
        :meth:`put_graph`. No difference: no request, ``etag`` is returned. A changed triple with a
        blank node raises :class:`ValueError` (the spec does not allow them in patches)."""
        before, after = set(old), set(new)
        deletes, inserts = before - after, after - before
        if not deletes and not inserts:
            return etag
        body = n3_patch(deletes, inserts).encode("utf-8")
        response = self._request(
            "PATCH", url, headers={"Content-Type": N3_PATCH, **_conditions(etag)}, data=body
        )
        response.close()
        return response.headers.get("ETag")

    def update_graph(self, url: str, change: Callable[[Graph], None], *, attempts: int = 5) -> Document:
        """Read ``url``, let ``change`` edit a copy in place, and PATCH the difference with
        ``If-Match`` (optimistic concurrency, RFC 9110 §13.1.1). When another writer changed the
        resource in between (412), read it again and call ``change`` again, up to ``attempts``
        times in all; then :class:`PreconditionFailed` surfaces. A resource that does not exist
        yet starts as an empty graph and is created only if it still does not (``If-None-Match: *``).
        Returns the document as written (its ``etag`` is ``None`` if the server sent none). A
        server that sends no ``ETag`` on GET gets an unconditional PATCH: no lost-update check."""
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        for attempt in range(1, attempts + 1):
            try:
                current = self.get_graph(url)
                condition = current.etag
            except NotFound:
                current = Document(url, Graph(), None, "text/turtle")
                condition = "*"
            changed = copy_graph(current.graph)
            change(changed)
            try:
                etag = self.patch_graph(url, current.graph, changed, etag=condition)
            except PreconditionFailed:
                if attempt < attempts:
                    continue
                raise
            return Document(url, changed, None if etag == "*" else etag, current.content_type)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- files -------------------------------------------------------------------------------------

    def read(self, url: str) -> tuple[bytes, str]:
        """The body of ``url`` and its content type, whole (use :meth:`download` for large files)."""
        response = self._request("GET", url, headers={"Accept": "*/*"})
        return response.content, essence(response.headers.get("Content-Type"))

    def download(
        self,
        url: str,
        dest: BinaryIO,
        *,
        progress: Progress | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> str | None:
        """Stream ``url`` into ``dest`` ``chunk_size`` bytes at a time, calling
        ``progress(done, total)`` first with 0 and after each chunk (``total`` is the
        ``Content-Length``, ``None`` when unknown); returns the content type."""
        response = self._request("GET", url, headers={"Accept": "*/*"}, stream=True)
        with response:
            length = response.headers.get("Content-Length")
            # A compressed body is decoded as it comes, so its length says nothing about ours.
            total = (
                int(length)
                if length and length.isdigit() and not response.headers.get("Content-Encoding")
                else None
            )
            done = 0
            if progress is not None:
                progress(done, total)
            for chunk in response.iter_content(chunk_size):
                dest.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            content_type = response.headers.get("Content-Type")
        return essence(content_type) if content_type else None

    def upload(
        self,
        url: str,
        source: BinaryIO | Path,
        content_type: str,
        *,
        progress: Progress | None = None,
        etag: str | None = None,
    ) -> str | None:
        """PUT ``source`` (an open binary file, or a path) to ``url`` as ``content_type``, streamed:
        the body is read chunk by chunk as the connection takes it. ``progress(done, total)`` is
        called first with 0 and then as bytes go (``total`` ``None`` for a stream of unknown size,
        which is then sent with chunked transfer coding). ``etag`` as in :meth:`put_graph`.
        Returns the new ETag."""
        if isinstance(source, Path):
            with source.open("rb") as opened:
                return self.upload(url, opened, content_type, progress=progress, etag=etag)
        total = _size_of(source)
        if progress is not None:
            progress(0, total)
        body: bytes | IO[bytes] | Iterator[bytes]
        if total == 0:
            body = b""  # not chunked: an empty body is sent as Content-Length: 0
        elif total is not None:
            body = _ProgressReader(source, total, progress)
        else:
            body = _chunks(source, progress, CHUNK_SIZE)
        headers = {"Content-Type": content_type, **_conditions(etag)}
        response = self._request("PUT", url, headers=headers, data=body)
        response.close()
        return response.headers.get("ETag")

    # -- containers ----------------------------------------------------------------------------------

    def list(self, url: str, *, page_size: int | None = None) -> builtins.list[Entry]:
        """Every child of the container ``url``. When the server pages the listing (``Link:
        <...>; rel="next"``, as in LDP Paging), every page is read. ``page_size`` asks for pages of
        that many children with ``Prefer: return=representation; max-member-count="N"`` (the page
        size hint of W3C LDP Paging); servers that do not page ignore it (RFC 7240 §2) and answer
        with one listing."""
        return self._list(url, page_size=page_size)[0]

    def _list(
        self, url: str, *, page_size: int | None = None
    ) -> tuple[builtins.list[Entry], requests.Response]:
        """The children and the first page's response (its ``Link`` header names the ACL)."""
        container = without_query(url)
        headers = {"Accept": RDF_ACCEPT}
        if page_size is not None:
            headers["Prefer"] = f'return=representation; max-member-count="{page_size}"'
        entries: dict[str, Entry] = {}
        seen: set[str] = set()
        first: requests.Response | None = None
        page: str | None = url
        while page is not None and page not in seen:
            seen.add(page)
            response = self._request("GET", page, headers=headers)
            first = first or response
            graph = parse_rdf(response.content, response.headers.get("Content-Type", ""), container)
            for entry in _entries(graph, URIRef(container)):
                entries.setdefault(entry.url, entry)
            page = next(iter(links(response).get("next", [])), None)
        assert first is not None
        return list(entries.values()), first

    def create_container(self, url: str) -> None:
        """Create the container ``url`` (which must end with "/"), and any missing ones above it
        (Solid Protocol §5.3). A container that exists already is fine."""
        if not url.endswith("/"):
            raise ValueError(f"a container URL ends with '/': {url}")
        headers = {
            "Content-Type": "text/turtle",
            "Link": f'<{LDP.BasicContainer}>; rel="type"',
            "If-None-Match": "*",
        }
        response = self.session.request("PUT", url, headers=headers, data=b"")
        response.close()
        if response.status_code == 412:
            return  # it exists
        if response.status_code == 409 and self.exists(url):
            return  # a server that refuses PUT on an existing container
        raise_for_status(response)

    def exists(self, url: str) -> bool:
        """Whether ``url`` exists (HEAD: 404 and 410 are ``False``; 401 and 403 raise)."""
        response = self.session.request("HEAD", url)
        response.close()
        if response.status_code in (404, 410):
            return False
        raise_for_status(response)
        return True

    def head(self, url: str) -> requests.Response:
        """The HEAD response of ``url`` (headers: ``Link``, ``ETag``, ``WAC-Allow``, ...)."""
        response = self._request("HEAD", url)
        response.close()
        return response

    def delete(self, url: str, *, recursive: bool = False) -> None:
        """Delete ``url``. A non-empty container needs ``recursive`` (the server answers 409,
        :class:`Conflict`, otherwise); then its tree goes depth first, each container after its
        children, and only URLs under ``url`` are ever deleted.

        Auxiliary resources (``.acl``, ``.meta``): the server deletes a resource's own with it
        (Solid Protocol §5.4). The container's ACL is deleted after the container, never before:
        deleting it first could lock the caller out, or widen access to what is left if the
        container's deletion then fails. So once a container is gone its ACL (from ``Link
        rel="acl"``) and any auxiliary resources the listing showed are deleted too, for servers
        that leave them behind (a stale ACL would govern a new container at the same URL); that
        they no longer exist, or that the server will not say, is not an error."""
        if not recursive or not url.endswith("/"):
            response = self._request("DELETE", url)
            response.close()
            return
        self._delete_tree(without_query(url))

    def _delete_tree(self, container: str) -> None:
        entries, listing = self._list(container)
        children = [e for e in entries if e.url.startswith(container) and e.url != container]
        auxiliary = [e.url for e in children if _is_auxiliary(e.url)]
        own = [u for u in auxiliary if parent(u) == container]  # the container's own (NSS lists them)
        for entry in children:
            if entry.url in auxiliary:
                continue
            if entry.is_container:
                self._delete_tree(entry.url)
            else:
                self._delete_if_there(entry.url)
        for aux in auxiliary:
            if aux not in own:  # a child's: gone with it on a conforming server
                self._delete_aux(aux)
        try:
            self._request("DELETE", container).close()
        except Conflict:
            if not own:
                raise
            # A server that counts the container's own auxiliary resources as members.
            for aux in own:
                self._delete_aux(aux)
            self._request("DELETE", container).close()
        for aux in dict.fromkeys(own + links(listing).get("acl", [])):
            self._delete_aux(aux)

    def _delete_if_there(self, url: str) -> None:
        """DELETE ``url``; already gone (someone else deleted it meanwhile) is fine."""
        with contextlib.suppress(NotFound):
            self._request("DELETE", url).close()

    def _delete_aux(self, url: str) -> None:
        """DELETE an auxiliary resource whose subject is gone: absent is as good as deleted, and so
        is a server that will no longer say (401/403), the subject that governed access being gone."""
        with contextlib.suppress(NotFound, Forbidden, NotAuthenticated):
            self._request("DELETE", url).close()

    def storage_of(self, url: str) -> str:
        """The storage root holding ``url``: the nearest container, walking up from ``url``, that
        the server types ``Link: <http://www.w3.org/ns/pim/space#Storage>; rel="type"`` (Solid
        Protocol §4.1); failing that, the ``pim:Storage`` named in the storage description
        (``Link rel="http://www.w3.org/ns/solid/terms#storageDescription"``, also §4.1) that holds
        ``url``. :class:`PodClientError` when neither finds one."""
        start = without_query(url)
        candidate: str | None = start if start.endswith("/") else parent(start)
        description: str | None = None
        while candidate is not None:
            response = self.session.request("HEAD", candidate)
            response.close()
            if response.status_code < 400:
                found = links(response)
                if str(PIM.Storage) in found.get("type", []):
                    return candidate
                description = description or next(iter(found.get(str(SOLID.storageDescription), [])), None)
            candidate = parent(candidate)
        if description is not None:
            storages = [
                str(s)
                for s in self.get_graph(description).graph.subjects(RDF.type, PIM.Storage)
                if isinstance(s, URIRef) and start.startswith(str(s))
            ]
            if storages:
                return max(storages, key=len)
        raise PodClientError(f"no storage holds {url}: no container above it is a pim:Storage", url=url)


def _is_auxiliary(url: str) -> bool:
    return urlsplit(url).path.endswith(_AUX_SUFFIXES)


def _entries(graph: Graph, container: URIRef) -> Iterator[Entry]:
    """The children a container listing describes (``ldp:contains``), with what it says of them."""
    children = list(graph.objects(container, LDP.contains))
    if not children:  # a server whose listing names the container differently (e.g. with a query)
        children = list(graph.objects(None, LDP.contains))
    for child in children:
        if not isinstance(child, URIRef):
            continue
        types = set(graph.objects(child, RDF.type))
        size = graph.value(child, STAT.size)
        modified = graph.value(child, DCTERMS.modified)
        mtime = graph.value(child, STAT.mtime)
        when: datetime | None = None
        if isinstance(modified, Literal) and isinstance(modified.toPython(), datetime):
            when = modified.toPython()
        elif isinstance(mtime, Literal):
            try:
                when = datetime.fromtimestamp(float(mtime), UTC)
            except (TypeError, ValueError, OverflowError):
                when = None
        media_types = [
            str(t)[len(str(IANA_MEDIA_TYPES)) : -len("#Resource")]
            for t in types
            if str(t).startswith(str(IANA_MEDIA_TYPES)) and str(t).endswith("#Resource")
        ]
        yield Entry(
            url=str(child),
            is_container=str(child).endswith("/") or bool(types & {LDP.Container, LDP.BasicContainer}),
            size=int(size) if isinstance(size, Literal) and isinstance(size.toPython(), int) else None,
            modified=when,
            content_type=media_types[0] if media_types else None,
        )


__all__ = [
    "RDF_ACCEPT",
    "RDF_FORMATS",
    "Document",
    "Entry",
    "Pod",
    "Progress",
    "copy_graph",
    "essence",
    "links",
    "n3_patch",
    "parse_rdf",
    "serialize_rdf",
]
