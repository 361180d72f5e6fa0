"""The ``pod`` command line (click): log in, then read, write, copy, share, watch and query a pod's resources.

Every command is a thin layer over the library: :class:`pod_client.session.Session` logs in,
:class:`pod_client.pod.Pod` does the reading and writing, :mod:`pod_client.acl`,
:mod:`pod_client.notifications` and :mod:`pod_client.query` do the rest. This module only parses
arguments, prints results (human-readable, or one JSON document with ``--json``) and turns the
exception tree of :mod:`pod_client.errors` into exit codes (:data:`EXIT_CODES`) and messages on stderr.

The session (tokens and the DPoP private key) is saved in a token cache with mode 0600, by default
``~/.config/pod/session.json`` (``$XDG_CONFIG_HOME/pod/session.json`` when that is set), or the
file given by ``--session`` / ``POD_SESSION``. Tokens are never printed.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import mimetypes
import os
import sys
import tempfile
import time
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO, Protocol, cast
from urllib.parse import quote, unquote, urlsplit

import click
import requests
from rdflib import BNode, Graph, Literal
from rdflib.term import Node

from pod_client import __version__, notifications, profile
from pod_client import acl as wac
from pod_client import query as queries
from pod_client.community_cli import community
from pod_client.errors import NotFound, PodClientError, raise_for_status
from pod_client.pod import RDF_FORMATS, Entry, Pod, parse_rdf
from pod_client.session import Session

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CODES: dict[int, int] = {401: 3, 403: 4, 404: 5, 409: 6, 412: 7, 422: 8}
"""The exit code for each HTTP status that has its own; any other failure exits with 1."""

_WHAT: dict[int, str] = {
    401: "not authenticated",
    403: "not allowed",
    404: "not found",
    409: "conflict",
    412: "precondition failed",
    422: "refused content",
}
_HINT: dict[int, str] = {
    401: "Log in with `pod login` (or again, if the session has ended).",
    412: "The resource changed since its ETag was read: read it again, then retry.",
}

EPILOG = """\b
Exit codes:
  0  success
  1  any other error (network, server error, local file)
  2  usage error (wrong options or arguments)
  3  401 not authenticated: log in with `pod login`
  4  403 not allowed
  5  404 not found
  6  409 conflict (e.g. `pod rm` on a non-empty container without -r)
  7  412 precondition failed (e.g. `pod put --if-match` with an old ETag)
  8  422 refused content (e.g. data a container's shape rejects)

\b
The session (tokens and DPoP key, file mode 0600) is kept in
~/.config/pod/session.json; choose another file with --session PATH or
POD_SESSION. With --json every command prints one JSON document on stdout
(`pod watch` prints one per line); errors print {"error": {...}}.
"""

_RDF_FORMATS: dict[str, tuple[str, str]] = {
    # --format name: (rdflib serializer, media type)
    "turtle": ("turtle", "text/turtle"),
    "jsonld": ("json-ld", "application/ld+json"),
    "ntriples": ("nt", "application/n-triples"),
}
_EXTENSIONS: dict[str, str] = {
    # Read before the mimetypes table, which lacks some RDF syntaxes on some systems.
    ".ttl": "text/turtle",
    ".jsonld": "application/ld+json",
    ".nt": "application/n-triples",
    ".n3": "text/n3",
    ".nq": "application/n-quads",
    ".trig": "application/trig",
    ".rdf": "application/rdf+xml",
}
_MODES = ("read", "write", "append", "control")
_AUXILIARY = (".acl", ".meta")
"""Names of auxiliary resources (Solid Protocol §4.3) on the servers we know: a recursive copy
leaves them out, so copying a folder never replaces the target's access rules."""


def default_session_path() -> Path:
    """``$XDG_CONFIG_HOME/pod/session.json``, else ``~/.config/pod/session.json``."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "pod" / "session.json"


def guess_type(name: str) -> str:
    """The media type for a file or URL name, from its extension (``.ttl`` is ``text/turtle``)."""
    path = urlsplit(name).path if is_url(name) else name
    suffix = PurePosixPath(path).suffix.lower()
    return _EXTENSIONS.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


class Failure(click.ClickException):
    """A failed command: ``pod: <message>`` on stderr (and an error document with ``--json``)."""

    def __init__(
        self,
        message: str,
        *,
        exit_code: int = EXIT_ERROR,
        status: int | None = None,
        url: str | None = None,
        detail: str | None = None,
        as_json: bool = False,
    ) -> None:
        super().__init__(message)
        # click 8.5 types exit_code as a class variable; each of our errors has its own code.
        object.__setattr__(self, "exit_code", exit_code)
        self.status = status
        self.url = url
        self.detail = detail or message
        self.as_json = as_json

    @classmethod
    def from_error(cls, error: PodClientError, *, as_json: bool) -> Failure:
        status = error.status
        # No status: no answer came, or the answer was unusable; the message says which.
        text = (
            error.message if status is None else f"{_WHAT.get(status, 'failed')} ({status}): {error.message}"
        )
        if error.url and error.url not in error.message:
            text += f" [{error.url}]"
        if status in _HINT:
            text += f"\n{_HINT[status]}"
        code = EXIT_CODES.get(status, EXIT_ERROR) if status is not None else EXIT_ERROR
        return cls(text, exit_code=code, status=status, url=error.url, detail=error.message, as_json=as_json)

    def show(self, file: IO[Any] | None = None) -> None:
        if self.as_json:
            error = {
                "status": self.status,
                "message": self.detail,
                "url": self.url,
                "exit_code": self.exit_code,
            }
            click.echo(json.dumps({"error": error}))
        click.echo(f"pod: {self.message}", err=True)


@dataclass
class State:
    """What every command shares: where the session lives, whether to print JSON, and the session
    itself (loaded on first use; anonymous when none is saved). A loaded session writes refreshed
    tokens back to its file by itself."""

    session_path: Path
    as_json: bool
    _session: Session | None = None
    _pod: Pod | None = None

    def session(self) -> Session:
        if self._session is None:
            if self.session_path.exists():
                self._session = Session.load(self.session_path)
            else:
                self._session = Session.anonymous()
        return self._session

    def pod(self) -> Pod:
        if self._pod is None:
            self._pod = Pod(self.session())
        return self._pod

    def remembered_issuer(self) -> str | None:
        """The issuer of the saved session, read without loading it (no refresh; an expired
        session still says where to log in again)."""
        try:
            saved = json.loads(self.session_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        issuer = saved.get("issuer") if isinstance(saved, dict) else None
        return issuer if isinstance(issuer, str) and issuer else None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def emit(self, document: Any, text: str) -> None:
        """Print ``document`` as JSON with ``--json``, else ``text``."""
        click.echo(json.dumps(document, indent=2) if self.as_json else text)


class PodGroup(click.Group):
    """Turns the library's errors (and local file errors) into :class:`Failure` exits."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PodClientError as exc:
            raise Failure.from_error(exc, as_json=_as_json(ctx)) from exc
        except requests.RequestException as exc:  # the library should wrap these; just in case
            raise Failure(f"no answer: {exc}", as_json=_as_json(ctx)) from exc
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise Failure(f"{where}{exc.strerror or exc}", as_json=_as_json(ctx)) from exc


def _as_json(ctx: click.Context) -> bool:
    state = ctx.find_object(State)
    return bool(state and state.as_json)


pass_state = click.make_pass_decorator(State)


@click.group(cls=PodGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
@click.option(
    "--session",
    "session_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="POD_SESSION",
    help="The session file (token cache) [POD_SESSION; default ~/.config/pod/session.json].",
)
@click.version_option(__version__, prog_name="pod")
@click.pass_context
def cli(ctx: click.Context, as_json: bool, session_path: Path | None) -> None:
    """pod: read, write, copy, share, watch and query resources on any Solid pod.

    Log in once with `pod login`; the other commands use the saved session
    (or no login at all, for public resources).
    """
    state = State(session_path or default_session_path(), as_json)
    ctx.obj = state
    ctx.call_on_close(state.close)


# -- sessions -----------------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--issuer", envvar="POD_ISSUER", help="Your identity provider (remembered from the last login)."
)
@click.option("--client-id", help="Log in with client credentials (for scripts) instead of a browser.")
@click.option(
    "--client-secret",
    envvar="POD_CLIENT_SECRET",
    help="The client secret [POD_CLIENT_SECRET]; asked for when --client-id is given without it.",
)
@click.option("--port", type=int, default=0, help="Browser login: port of the local redirect listener.")
@click.option("--no-browser", is_flag=True, help="Browser login: print the login URL instead of opening it.")
@pass_state
def login(
    state: State,
    issuer: str | None,
    client_id: str | None,
    client_secret: str | None,
    port: int,
    no_browser: bool,
) -> None:
    """Log in: in your browser, or with --client-id/--client-secret.

    The session is saved (mode 0600) for the other commands.
    """
    issuer = issuer or state.remembered_issuer()
    if not issuer:
        raise click.UsageError(
            "say where to log in: --issuer URL (your identity provider; remembered afterwards)"
        )
    if client_secret and not client_id:
        raise click.UsageError("--client-secret goes with --client-id")
    if client_id:
        if not client_secret:
            client_secret = click.prompt("Client secret", hide_input=True, err=True)
        session = Session.client_credentials(issuer, client_id, str(client_secret))
    else:
        session = Session.interactive(issuer, open_browser=_opener(no_browser), port=port)
    state.session_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    session.save(state.session_path)
    state.emit(
        {
            "webid": session.webid,
            "issuer": session.issuer,
            "client_id": session.client_id,
            "session": str(state.session_path),
        },
        f"Logged in as {session.webid} (at {session.issuer}).",
    )


def _opener(print_only: bool) -> Callable[[str], object]:
    def open_url(url: str) -> object:
        click.echo(f"Log in at: {url}", err=True)
        if print_only:
            return True
        return webbrowser.open(url)

    return open_url


@cli.command()
@pass_state
def logout(state: State) -> None:
    """Log out: end the session and delete the saved tokens."""
    if not state.session_path.exists():
        state.emit({"logged_out": False, "webid": None}, "Not logged in.")
        return
    webid: str | None = None
    try:
        session = Session.load(state.session_path)
        webid = session.webid
        session.logout()
    except PodClientError as exc:  # unreadable or expired: forgetting it is all there is to do
        click.echo(f"pod: warning: {exc.message}; deleting it", err=True)
    state.session_path.unlink(missing_ok=True)  # logout() deletes it too
    state.emit({"logged_out": True, "webid": webid}, f"Logged out{f' {webid}' if webid else ''}.")


@cli.command()
@pass_state
def whoami(state: State) -> None:
    """Print your WebID (exit code 3 when not logged in)."""
    session = state.session()
    if session.webid is None:
        raise Failure(
            "not logged in: no saved session. Log in with `pod login`.", exit_code=3, as_json=state.as_json
        )
    state.emit(
        {"webid": session.webid, "issuer": session.issuer, "client_id": session.client_id},
        f"{session.webid}\n  issuer: {session.issuer}\n  client: {session.client_id}",
    )


# -- reading and writing ------------------------------------------------------------------------------


@cli.command()
@click.argument("url")
@click.option("-l", "--long", "long_", is_flag=True, help="Show size, last modified and type.")
@pass_state
def ls(state: State, url: str, long_: bool) -> None:
    """List a container's resources (or show one resource).

    A URL ending in '/' names a container.
    """
    pod = state.pod()
    if url.endswith("/"):
        entries = sorted(pod.list(url), key=lambda e: e.url)
    else:
        entries = [_entry_of(url, _head(pod, url))]
    if state.as_json:
        state.emit({"url": url, "entries": [_entry_json(e) for e in entries]}, "")
        return
    for entry in entries:
        click.echo(_entry_line(entry) if long_ else _name(entry.url))


def _head(pod: Pod, url: str) -> requests.Response:
    return cast(requests.Response, raise_for_status(pod.head(url)))


def _entry_of(url: str, response: requests.Response) -> Entry:
    length = response.headers.get("Content-Length")
    modified = response.headers.get("Last-Modified")
    return Entry(
        url=url,
        is_container=url.endswith("/"),
        size=int(length) if length and length.isdigit() else None,
        modified=parsedate_to_datetime(modified) if modified else None,
        content_type=response.headers.get("Content-Type"),
    )


def _name(url: str) -> str:
    """The last path segment, decoded (with a trailing '/' for a container)."""
    path = urlsplit(url).path
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    return name + "/" if path.endswith("/") else name


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "url": entry.url,
        "name": _name(entry.url),
        "container": entry.is_container,
        "size": entry.size,
        "modified": entry.modified.isoformat() if entry.modified else None,
        "content_type": entry.content_type,
    }


def _entry_line(entry: Entry) -> str:
    size = "-" if entry.size is None or entry.is_container else str(entry.size)
    modified = _when(entry.modified)
    kind = "container" if entry.is_container else (entry.content_type or "-").split(";")[0]
    return f"{size:>10}  {modified:<16}  {kind:<24}  {_name(entry.url)}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@cli.command()
@click.argument("url")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(_RDF_FORMATS)),
    help="Convert RDF to this syntax (with rdflib); anything else is printed as it is.",
)
@pass_state
def cat(state: State, url: str, fmt: str | None) -> None:
    """Print a resource: as stored, or RDF converted with --format."""
    body, content_type = state.pod().read(url)
    if fmt is not None:
        if content_type in RDF_FORMATS:
            # parse_rdf: JSON-LD naming a remote @context is refused, never fetched.
            graph = parse_rdf(body, content_type, url.split("#", 1)[0])
            serializer, content_type = _RDF_FORMATS[fmt]
            body = graph.serialize(format=serializer, encoding="utf-8").rstrip(b"\n") + b"\n"
        else:
            click.echo(f"pod: {url} is {content_type or 'of no type'}, not RDF: printed as it is", err=True)
    if state.as_json:
        document: dict[str, Any] = {"url": url, "content_type": content_type}
        try:
            document["text"] = body.decode("utf-8")
        except UnicodeDecodeError:
            document["base64"] = base64.b64encode(body).decode("ascii")
        state.emit(document, "")
        return
    out = sys.stdout.buffer
    out.write(body)
    out.flush()


@cli.command()
@click.argument("url")
@click.argument("file", default="-", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-t", "--content-type", help="The media type (default: guessed from the file's extension).")
@click.option(
    "--if-match",
    metavar="ETAG",
    help="Replace the resource only if its ETag is still ETAG (exit code 7 if it changed); "
    "quotes are optional.",
)
@pass_state
def put(state: State, url: str, file: str, content_type: str | None, if_match: str | None) -> None:
    """Write FILE (or stdin, '-') to URL, creating or replacing it.

    A URL ending in '/' is a container: the file goes in it, under its own name.
    """
    if url.endswith("/"):
        if file == "-":
            raise click.UsageError(
                f"{url} names a container: give the new resource's URL (or `pod mkdir` to make a container)"
            )
        url += quote(Path(file).name)
    content_type = content_type or guess_type(url if file == "-" else file)
    source: BinaryIO | Path
    if file == "-":
        data = sys.stdin.buffer.read()
        source, size = io.BytesIO(data), len(data)
    else:
        source, size = Path(file), Path(file).stat().st_size
    with _progress(state, size, _name(url)) as bar:
        etag = state.pod().upload(url, source, content_type, progress=bar.callback(), etag=_etag(if_match))
    state.emit(
        {"url": url, "content_type": content_type, "size": size, "etag": etag},
        f"Wrote {url} ({content_type}, {size} bytes).",
    )


def _etag(given: str | None) -> str | None:
    """An ETag as RFC 9110 §8.8.3 writes it: quoted (``W/"..."`` for a weak one); the quotes are
    optional on the command line."""
    if given == "*":  # the library reads etag="*" as "create only" (If-None-Match), the opposite
        raise click.BadParameter("give the ETag the resource was read at, not '*'", param_hint="--if-match")
    if given is None or given.startswith(('"', 'W/"')):
        return given
    return f'"{given}"'


@cli.command()
@click.argument("url")
@click.option("-r", "--recursive", is_flag=True, help="Delete a container with everything in it.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before deleting a container.")
@pass_state
def rm(state: State, url: str, recursive: bool, yes: bool) -> None:
    """Delete a resource, or a container (asks first, unless -y).

    A non-empty container needs -r. Answering no deletes nothing (exit code 1).
    """
    pod = state.pod()
    if url.endswith("/") and not yes:
        members = pod.list(url)
        if members and not recursive:
            raise Failure(
                f"conflict: {url} is not empty ({len(members)} members); use -r to delete it with "
                "everything in it",
                exit_code=EXIT_CODES[409],
                status=409,
                url=url,
                as_json=state.as_json,
            )
        what = f"container {url}" + (" and everything in it" if members else "")
        if not click.confirm(f"Delete {what}?", default=False, err=True):
            raise Failure("nothing deleted", as_json=state.as_json)
    pod.delete(url, recursive=recursive)
    state.emit({"deleted": url, "recursive": recursive}, f"Deleted {url}")


@cli.command()
@click.argument("url")
@pass_state
def mkdir(state: State, url: str) -> None:
    """Create a container (and any missing parents). An existing one is fine."""
    if not url.endswith("/"):
        url += "/"
    state.pod().create_container(url)
    state.emit({"created": url}, f"Created {url}")


# -- copying ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stat:
    is_dir: bool
    size: int | None


class _Side(Protocol):
    """One end of a copy: the local file system, or pods (``where`` is a path or a URL)."""

    def join(self, base: str, name: str, is_dir: bool) -> str: ...
    def name(self, where: str) -> str: ...
    def is_dir_name(self, where: str) -> bool: ...
    def stat(self, where: str) -> _Stat | None: ...
    def children(self, where: str, *, missing_ok: bool = True) -> dict[str, _Stat] | None: ...
    def make_dir(self, where: str) -> None: ...


class _LocalSide:
    def join(self, base: str, name: str, is_dir: bool) -> str:
        return os.path.join(base, name)

    def name(self, where: str) -> str:
        return os.path.basename(where.rstrip(os.sep))

    def is_dir_name(self, where: str) -> bool:
        return where.endswith(os.sep) or os.path.isdir(where)

    def stat(self, where: str) -> _Stat | None:
        try:
            found = os.stat(where)
        except FileNotFoundError:
            return None
        is_dir = os.path.isdir(where)
        return _Stat(is_dir, None if is_dir else found.st_size)

    def children(self, where: str, *, missing_ok: bool = True) -> dict[str, _Stat] | None:
        if missing_ok and not os.path.isdir(where):
            return None
        found: dict[str, _Stat] = {}
        with os.scandir(where) as entries:
            for entry in entries:
                if entry.is_dir():
                    found[entry.name] = _Stat(True, None)
                elif entry.is_file():  # sockets, fifos and broken links are not copied
                    found[entry.name] = _Stat(False, entry.stat().st_size)
        return found

    def make_dir(self, where: str) -> None:
        os.makedirs(where, exist_ok=True)


class _PodSide:
    def __init__(self, pod: Pod) -> None:
        self.pod = pod

    def join(self, base: str, name: str, is_dir: bool) -> str:
        return (base if base.endswith("/") else base + "/") + quote(name) + ("/" if is_dir else "")

    def name(self, where: str) -> str:
        return _name(where).rstrip("/")

    def is_dir_name(self, where: str) -> bool:
        return where.endswith("/")

    def stat(self, where: str) -> _Stat | None:
        try:
            entry = _entry_of(where, _head(self.pod, where))
        except NotFound:
            return None
        return _Stat(entry.is_container, None if entry.is_container else entry.size)

    def children(self, where: str, *, missing_ok: bool = True) -> dict[str, _Stat] | None:
        try:
            entries = self.pod.list(where)
        except NotFound:
            if not missing_ok:
                raise
            return None
        return {self.name(e.url): _Stat(e.is_container, None if e.is_container else e.size) for e in entries}

    def make_dir(self, where: str) -> None:
        self.pod.create_container(where)


@dataclass(frozen=True)
class _Transfer:
    src: str
    dst: str
    size: int | None


@dataclass
class _Plan:
    todo: list[_Transfer] = field(default_factory=list)
    skipped: list[_Transfer] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)


def _same_size(size: int | None, there: _Stat | None) -> bool:
    """Whether a file of ``size`` bytes is already at the target (resuming a copy)."""
    return there is not None and not there.is_dir and size is not None and there.size == size


def _plan_tree(src_side: _Side, src: str, dst_side: _Side, dst: str) -> _Plan:
    plan = _Plan()

    def walk(src_dir: str, dst_dir: str, dst_exists: bool) -> None:
        ours = src_side.children(src_dir, missing_ok=False) or {}
        theirs = dst_side.children(dst_dir) if dst_exists else None
        if theirs is None:
            plan.folders.append(dst_dir)
        for name, stat in sorted(ours.items()):
            if name.endswith(_AUXILIARY):
                continue
            there = (theirs or {}).get(name)
            if stat.is_dir:
                walk(
                    src_side.join(src_dir, name, True),
                    dst_side.join(dst_dir, name, True),
                    there is not None and there.is_dir,
                )
                continue
            transfer = _Transfer(
                src_side.join(src_dir, name, False), dst_side.join(dst_dir, name, False), stat.size
            )
            (plan.skipped if _same_size(stat.size, there) else plan.todo).append(transfer)

    walk(src, dst, True)
    return plan


@cli.command()
@click.argument("src")
@click.argument("dst")
@click.option("-r", "--recursive", is_flag=True, help="Copy a container or folder with everything in it.")
@pass_state
def cp(state: State, src: str, dst: str, recursive: bool) -> None:
    """Copy SRC to DST: local to pod, pod to local, or pod to pod.

    \b
    A URL ending in '/' names a container. Copying a file to a container
    or folder puts it inside, under its own name. With -r, DST becomes the
    copy of SRC (like `cp -rT`): `pod cp -r photos https://pod.example/photos/`
    puts photos/a.jpg at https://pod.example/photos/a.jpg, and containers
    and folders are created as needed.

    \b
    Resumable: a file already present at DST with the same size is skipped
    (for pod targets the size is the Content-Length, or the size in the
    container listing), so running the same copy again copies only what is
    missing or different. A progress bar is shown on stderr when it is a
    terminal (not with --json).

    Files named *.acl and *.meta are left out of a recursive copy: they
    would replace the target's access rules (use `pod acl` for those).
    """
    if not (is_url(src) or is_url(dst)):
        raise click.UsageError("one of SRC and DST must be a pod URL (http:// or https://)")
    pods, local = _PodSide(state.pod()), _LocalSide()
    src_side: _Side = pods if is_url(src) else local
    dst_side: _Side = pods if is_url(dst) else local

    if src_side.is_dir_name(src):
        if not recursive:
            raise click.UsageError(f"{src} is a container or folder: use -r to copy it with everything in it")
        if is_url(dst) and not dst.endswith("/"):
            dst += "/"
        plan = _plan_tree(src_side, src, dst_side, dst)
    else:
        if is_url(src):
            size = _entry_of(src, _head(state.pod(), src)).size  # a 404 here: exit code 5
        else:
            if not os.path.isfile(src):
                raise Failure(f"{src}: no such file", as_json=state.as_json)
            size = os.path.getsize(src)
        if dst_side.is_dir_name(dst):
            dst = dst_side.join(dst, src_side.name(src), False)
        there = dst_side.stat(dst)
        transfer = _Transfer(src, dst, size)
        plan = _Plan()
        (plan.skipped if _same_size(size, there) else plan.todo).append(transfer)

    for folder in plan.folders:
        dst_side.make_dir(folder)
    total = sum(t.size or 0 for t in plan.todo)
    copied = 0
    with _progress(state, total, "copying") as bar:
        for transfer in plan.todo:
            progress = bar.callback(_name(transfer.src) if is_url(transfer.src) else Path(transfer.src).name)
            _copy_file(state.pod(), transfer, is_url(transfer.src), is_url(transfer.dst), progress)
            copied += transfer.size or 0

    def listed(transfers: list[_Transfer]) -> list[dict[str, Any]]:
        return [{"from": t.src, "to": t.dst, "size": t.size} for t in transfers]

    text = f"Copied {len(plan.todo)} file{'s' * (len(plan.todo) != 1)} ({copied} bytes)"
    if plan.skipped:
        text += f"; skipped {len(plan.skipped)} already there with the same size"
    state.emit(
        {
            "copied": listed(plan.todo),
            "skipped": listed(plan.skipped),
            "created": plan.folders,
            "bytes": copied,
        },
        text + ".",
    )


def _copy_file(
    pod: Pod, transfer: _Transfer, from_pod: bool, to_pod: bool, progress: Callable[[int, int | None], None]
) -> None:
    if not from_pod:
        pod.upload(transfer.dst, Path(transfer.src), guess_type(transfer.src), progress=progress)
    elif not to_pod:
        # Written beside the target and renamed: an interrupted copy leaves no half file behind.
        # Created exclusively ("x"), so a file of that name that is not ours is never replaced.
        partial = f"{transfer.dst}.{os.getpid()}.pod-part"
        os.makedirs(os.path.dirname(os.path.abspath(transfer.dst)), exist_ok=True)
        out = open(partial, "xb")  # noqa: SIM115 (outside the try: a file not ours is never deleted)
        try:
            with out:
                pod.download(transfer.src, out, progress=progress)
            os.replace(partial, transfer.dst)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
    else:
        with tempfile.SpooledTemporaryFile(max_size=16 << 20) as buffer:
            spool = cast(BinaryIO, buffer)
            content_type = pod.download(transfer.src, spool)
            spool.seek(0)
            pod.upload(transfer.dst, spool, content_type or guess_type(transfer.src), progress=progress)


class _Bar:
    """Feeds a click progress bar (or nothing) from the library's ``progress(done, total)`` calls,
    redrawing it at most ten times a second."""

    def __init__(self, bar: Any | None) -> None:
        self.bar = bar
        self._pending = 0
        self._drawn_at = 0.0

    def callback(self, name: str | None = None) -> Callable[[int, int | None], None]:
        last = 0

        def progress(done: int, total: int | None) -> None:
            nonlocal last
            if done > last:  # after a retry rewinds the body, count only bytes not counted yet
                self._pending += done - last
                last = done
            if self.bar is not None and (time.monotonic() - self._drawn_at >= 0.1 or done == total):
                self.flush(name)

        return progress

    def flush(self, name: str | None = None) -> None:
        if self.bar is not None:
            self.bar.update(self._pending, name)
            self._drawn_at = time.monotonic()
        self._pending = 0


@contextmanager
def _progress(state: State, total: int, label: str) -> Iterator[_Bar]:
    """A progress bar on stderr, only when stderr is a terminal and the output is not JSON."""
    if state.as_json or total == 0 or not sys.stderr.isatty():
        yield _Bar(None)
        return
    with click.progressbar(
        length=total, label=label, file=sys.stderr, item_show_func=lambda name: name
    ) as bar:
        shown = _Bar(bar)
        yield shown
        shown.flush()


# -- access control -----------------------------------------------------------------------------------


@cli.group(cls=PodGroup)
def acl() -> None:
    """Show and change who may access a resource (Web Access Control)."""


def _subject_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--agent", metavar="WEBID", help="A person (or agent), by WebID."),
        click.option("--group", metavar="URL", help="A group (vcard:Group) of agents."),
        click.option("--public", is_flag=True, help="Everyone, logged in or not."),
        click.option("--authenticated", is_flag=True, help="Everyone who is logged in."),
        click.option("--app", metavar="CLIENT_ID", help="Only through this app (client id)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@dataclass(frozen=True)
class _Who:
    """The subject of a rule as the acl options name it: ``name`` (``"agent <webid>"``), ``text``
    for people (with the app), ``options`` for :func:`pod_client.acl.grant` and
    :func:`pod_client.acl.revoke`."""

    name: str
    options: dict[str, Any]

    @property
    def text(self) -> str:
        app = self.options["app"]
        return self.name + (f" through app {app}" if app else "")


def _check_subject(
    agent: str | None, group: str | None, public: bool, authenticated: bool, app: str | None
) -> _Who:
    given = [
        name
        for name, value in (
            ("agent", agent),
            ("group", group),
            ("public", public),
            ("authenticated", authenticated),
        )
        if value
    ]
    if len(given) != 1:
        raise click.UsageError(
            "say who: exactly one of --agent WEBID, --group URL, --public, --authenticated"
        )
    name = {
        "agent": f"agent {agent}",
        "group": f"group {group}",
        "public": "public",
        "authenticated": "authenticated",
    }[given[0]]
    options = {"agent": agent, "group": group, "public": public, "authenticated": authenticated, "app": app}
    return _Who(name, options)


def _modes(modes: tuple[str, ...]) -> list[str]:
    return [mode.capitalize() for mode in _MODES if mode in {m.lower() for m in modes}]


@acl.command("show")
@click.argument("url")
@pass_state
def acl_show(state: State, url: str) -> None:
    """Show the rules of a resource's own ACL."""
    rules = wac.show(state.pod(), url)
    if state.as_json:
        state.emit({"url": url, "rules": [_rule_json(rule) for rule in rules]}, "")
        return
    for rule in rules:
        modes = ", ".join(m for m in wac.MODES if m in rule.modes)
        click.echo(f"{rule.subject}: {modes}{' (default for members)' if rule.default else ''}")


def _rule_json(rule: wac.Rule) -> dict[str, Any]:
    return {
        "subject": rule.subject,
        "modes": [m for m in wac.MODES if m in rule.modes],
        "default": rule.default,
    }


_MODE_OPTION = click.option(
    "-m",
    "--mode",
    "modes",
    multiple=True,
    type=click.Choice(_MODES, case_sensitive=False),
    help="An access mode (repeat for several).",
)


@acl.command("grant")
@click.argument("url")
@_subject_options
@_MODE_OPTION
@click.option(
    "--default/--no-default",
    default=None,
    help="Whether members inherit the rule (default: yes for containers).",
)
@pass_state
def acl_grant(
    state: State,
    url: str,
    agent: str | None,
    group: str | None,
    public: bool,
    authenticated: bool,
    app: str | None,
    modes: tuple[str, ...],
    default: bool | None,
) -> None:
    """Grant access modes on URL: pod acl grant URL --agent WEBID -m read -m write."""
    who = _check_subject(agent, group, public, authenticated, app)
    if not modes:
        raise click.UsageError("say which modes: -m read, -m write, -m append, -m control (repeatable)")
    chosen = _modes(modes)
    wac.grant(state.pod(), url, chosen, default=default, **who.options)
    state.emit(
        {"url": url, "granted": chosen, "subject": who.name, "app": app},
        f"Granted {', '.join(chosen)} on {url} to {who.text}.",
    )


@acl.command("revoke")
@click.argument("url")
@_subject_options
@_MODE_OPTION
@pass_state
def acl_revoke(
    state: State,
    url: str,
    agent: str | None,
    group: str | None,
    public: bool,
    authenticated: bool,
    app: str | None,
    modes: tuple[str, ...],
) -> None:
    """Revoke access modes on URL (all of them without -m)."""
    who = _check_subject(agent, group, public, authenticated, app)
    chosen = _modes(modes) if modes else None
    wac.revoke(state.pod(), url, chosen, **who.options)
    state.emit(
        {
            "url": url,
            "revoked": chosen if chosen is not None else list(wac.MODES),
            "subject": who.name,
            "app": app,
        },
        f"Revoked {', '.join(chosen) if chosen else 'all modes'} on {url} from {who.text}.",
    )


# -- notifications and queries ------------------------------------------------------------------------


@cli.command()
@click.argument("url")
@click.option("-n", "--count", type=click.IntRange(min=1), help="Stop after COUNT notifications.")
@pass_state
def watch(state: State, url: str, count: int | None) -> None:
    """Print each change to URL as it happens, one line each (Ctrl-C stops).

    With --json, each notification is printed as one line of JSON.
    """
    seen = 0
    with notifications.watch(state.pod(), url) as events:
        # The socket is open once watch() returns: no change made from now on is missed.
        if not state.as_json:
            click.echo(f"Watching {url} (Ctrl-C to stop)", err=True)
        try:
            for event in events:
                click.echo(json.dumps(event) if state.as_json else _describe(event))
                seen += 1
                if count is not None and seen >= count:
                    break
            else:
                click.echo("pod: the server closed the notification channel", err=True)
        except KeyboardInterrupt:
            pass


def _describe(event: dict[str, Any] | str) -> str:
    """``<published> <type> <object>``, e.g. ``2024-05-01T10:00:00Z Update https://pod.example/a``
    (a notification in another syntax than JSON is printed as it came)."""
    if isinstance(event, str):
        return event.strip()
    kinds = event.get("type", "?")
    kind = " ".join(_short(k) for k in kinds) if isinstance(kinds, list) else _short(str(kinds))
    target = event.get("object", "")
    if isinstance(target, dict):
        target = target.get("id") or target.get("@id") or ""
    return f"{event.get('published', '-')} {kind} {target}"


def _short(term: str) -> str:
    return term.rsplit("#", 1)[-1].rsplit("/", 1)[-1].removeprefix("as:")


_QUERY_FORMATS = ("table", "json", "csv", "turtle")
_SKIPPED_SHOWN = 10
"""How many skipped resources a federated `pod query` names on stderr (the rest are counted)."""


@cli.command()
@click.argument("sparql", required=False)
@click.option(
    "-f",
    "--file",
    "query_file",
    type=click.File("r", encoding="utf-8"),
    help="Read the query from FILE ('-' for stdin) instead of the argument.",
)
@click.option("--endpoint", metavar="URL", help="Ask this SPARQL endpoint.")
@click.option(
    "--pod",
    "pod_url",
    metavar="URL",
    help="Ask the endpoint of the pod holding URL (named in its storage description).",
)
@click.option(
    "--source",
    "sources",
    metavar="URL",
    multiple=True,
    help="Query on your side: fetch this container (recursively) or document. Repeatable, across pods.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_QUERY_FORMATS),
    help="table (default for SELECT and ASK), json (SPARQL results JSON; JSON-LD for a graph), "
    "csv (SPARQL results CSV), turtle (default for CONSTRUCT and DESCRIBE).",
)
@pass_state
def query(
    state: State,
    sparql: str | None,
    query_file: IO[str] | None,
    endpoint: str | None,
    pod_url: str | None,
    sources: tuple[str, ...],
    fmt: str | None,
) -> None:
    """Run a SPARQL query, on a pod's endpoint or on your side.

    \b
    Where it runs (the answer only ever holds what you may read):
      --pod URL       the SPARQL endpoint of the pod holding URL
      --endpoint URL  that endpoint
      --source URL    no endpoint: fetch every RDF document you may read in
                      these containers (walked recursively) and documents,
                      on any Solid servers, and query them here; what could
                      not be read is counted on stderr
      (none)          the endpoint of your own pod (from your WebID profile)

    \b
    Examples:
      pod query --pod https://pod.example/ 'SELECT * WHERE { ?s ?p ?o } LIMIT 5'
      pod query -f people.rq --source https://a.example/public/ \\
                --source https://b.example/shared/ --format csv

    Every document is a named graph, named by its URL, and the default
    graph is their union. With --json the answer is SPARQL 1.1 results JSON
    (JSON-LD for CONSTRUCT and DESCRIBE); a query run on your side adds
    "sources": what was read and what was skipped.
    """
    if (sparql is None) == (query_file is None):
        raise click.UsageError(
            "give the query as an argument or with -f FILE (not both): pod query 'SELECT ...' --pod URL"
        )
    text = sparql if sparql is not None else cast(IO[str], query_file).read()
    if sources and (endpoint or pod_url):
        raise click.UsageError(
            "--source runs the query on your side: it does not go with --endpoint or --pod"
        )
    if endpoint and pod_url:
        raise click.UsageError("say where with one of --endpoint URL and --pod URL")
    if state.as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json prints JSON: it does not go with --format {fmt}")
    fmt = "json" if state.as_json else fmt
    pod = state.pod()
    if sources:
        result = queries.federated(pod, text, list(sources))
    else:
        if endpoint is None:
            where = pod_url or _own_pod(state)
            endpoint = queries.endpoint_of(pod, where)
            if endpoint is None:
                raise Failure(
                    f"found no SPARQL endpoint for {where}: its storage names none, or you may read "
                    "nothing on the way up to it. Give --endpoint URL, or --pod with a URL you may read "
                    "(the owner's WebID profile), or query on your side with --source URL",
                    url=where,
                    as_json=state.as_json,
                )
        result = queries.query(pod, text, endpoint=endpoint)
    _print_result(result, fmt, federated=bool(sources))


def _own_pod(state: State) -> str:
    """The first storage (``pim:storage``) of the logged-in WebID's profile."""
    webid = state.session().webid
    if webid is None:
        raise click.UsageError(
            "say where: --pod URL, --endpoint URL or --source URL (or log in to ask your own pod)"
        )
    found = profile.storages(state.pod(), webid)
    if not found:
        raise Failure(
            f"your profile names no storage (pim:storage): say where with --pod URL [{webid}]",
            as_json=state.as_json,
        )
    return found[0]


def _print_result(result: queries.QueryResult, fmt: str | None, *, federated: bool) -> None:
    if result.kind == "graph":
        graph = result.graph if result.graph is not None else Graph()
        if fmt == "csv":
            raise click.UsageError("a CONSTRUCT or DESCRIBE answer is a graph: use --format turtle or json")
        serializer = "json-ld" if fmt == "json" else "turtle"
        body = graph.serialize(format=serializer, encoding="utf-8").decode("utf-8")
        if fmt == "json" and federated:
            body = json.dumps({"graph": json.loads(body), "sources": _sources_json(result)}, indent=2)
        click.echo(body.rstrip("\n"))
    elif fmt == "turtle":
        raise click.UsageError("a SELECT or ASK answer is a table: use --format table, json or csv")
    elif fmt == "json":
        document = result.to_json()
        if federated:
            document["sources"] = _sources_json(result)
        click.echo(json.dumps(document, indent=2))
    elif fmt == "csv":
        click.echo(result.to_csv(), nl=False)
    else:
        click.echo(_table(result))
    if federated and fmt != "json":
        _report_sources(result)


def _sources_json(result: queries.QueryResult) -> dict[str, Any]:
    return {
        "documents": result.documents,
        "skipped": [{"url": s.url, "status": s.status, "reason": s.reason} for s in result.skipped],
    }


def _report_sources(result: queries.QueryResult) -> None:
    """On stderr: how many documents a query on your side read, and what it skipped."""
    documents = len(result.documents)
    line = f"pod: queried {documents} document{'s' * (documents != 1)}"
    if result.skipped:
        unreadable = sum(s.status in (401, 403) for s in result.skipped)
        gone = sum(s.status in (404, 410) for s in result.skipped)
        other = len(result.skipped) - unreadable - gone
        counts = [f"{unreadable} not readable", f"{gone} not found", f"{other} not RDF"]
        line += f"; skipped {len(result.skipped)} ({', '.join(c for c in counts if not c.startswith('0 '))})"
    click.echo(line, err=True)
    for skipped in result.skipped[:_SKIPPED_SHOWN]:
        status = skipped.status if skipped.status is not None else "-"
        click.echo(f"  skipped {status} {skipped.url}: {skipped.reason}", err=True)
    if len(result.skipped) > _SKIPPED_SHOWN:
        click.echo(f"  ... and {len(result.skipped) - _SKIPPED_SHOWN} more (--json lists them all)", err=True)


def _table(result: queries.QueryResult) -> str:
    """A SELECT answer as an aligned text table with a row count; an ASK answer as true or false."""
    if result.kind == "boolean":
        return "true" if result.boolean else "false"
    header = [f"?{name}" for name in result.variables]
    cells = [[_cell(row.get(name)) for name in result.variables] for row in result.rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(header)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    count = len(result.rows)
    lines = [line(header), line(["-" * w for w in widths]), *(line(row) for row in cells)]
    return "\n".join([*lines, f"({count} row{'s' * (count != 1)})"])


def _cell(term: Node | None) -> str:
    """A term for reading: an IRI as it is, a literal's text (with its @language), ``_:`` blank nodes;
    line breaks are shown as ``\\n`` so that every solution stays on one line."""
    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    text = str(term)
    if isinstance(term, Literal) and term.language:
        text += f"@{term.language}"
    return text.replace("\r", "\\r").replace("\n", "\\n")


cli.add_command(community)  # `pod community ...` (pod_client/community_cli.py)


def main(argv: list[str] | None = None) -> None:
    """The ``pod`` console script."""
    cli.main(args=argv, prog_name="pod")


if __name__ == "__main__":
    main()
