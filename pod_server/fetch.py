"""The safe fetcher: the one way pod-server makes an outbound HTTP request.

Client ID Documents, WebID profiles, JWKS, remote groups and (later) webhooks all come through
:class:`SafeFetcher`. Every request it makes:

- uses only ``http`` or ``https``;
- resolves the host itself, refuses it when any address is loopback, private, link-local,
  multicast, reserved or unspecified (unless the operator allowed private addresses or that host),
  and then connects to the address it checked, so a second DNS answer cannot swap it
  (DNS rebinding). The ``Host`` header and TLS SNI/certificate checks still use the host name;
- has a connect and a read timeout, plus a deadline for the whole body;
- streams the body and stops at a size cap;
- follows at most ``max_redirects`` redirects, each hop checked as above;
- ignores proxy variables and ``.netrc`` from the environment, and sends no cookies.

GET answers with status 200 are cached in memory for their ``Cache-Control: max-age`` (never when
``no-store``/``no-cache``), or ``default_ttl`` without one. Failures raise :class:`FetchError`, a
:class:`~pod_server.errors.BadRequest` whose message is safe to show a client: it names the URL's
host and the check that failed, never a header or body.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from pod_server.config import Settings
from pod_server.errors import BadRequest

Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses``; the default asks the system resolver."""

_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)


class FetchError(BadRequest):
    """An outbound request was refused or failed. ``reason`` names the check, for tests and logs."""

    title = "Fetch Failed"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class FetchPolicy:
    """What the fetcher may do. ``allow_hosts`` holds host names (``localhost``, ``127.0.0.1``) that
    may resolve to private addresses even when ``allow_private`` is off."""

    allow_private: bool = False
    allow_hosts: frozenset[str] = frozenset()
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    total_timeout: float = 10.0
    max_bytes: int = 1024 * 1024
    max_redirects: int = 3
    default_ttl: float = 60.0
    max_ttl: float = 24 * 3600.0
    cache_entries: int = 512
    user_agent: str = "pod-server"


@dataclass(frozen=True)
class Fetched:
    """A response read in full. ``url`` is the final URL after redirects."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case (``""`` when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def fetcher_for(settings: Settings, **limits: Any) -> SafeFetcher:
    """A safe fetcher configured from settings (which hosts may be private); ``limits`` override
    the policy's timeouts and sizes, e.g. for agent groups that must never hold a request long."""
    return SafeFetcher(
        FetchPolicy(
            allow_private=settings.fetch_allow_private,
            allow_hosts=frozenset(h.lower() for h in settings.fetch_allow_hosts),
            **limits,
        )
    )


def system_resolver(host: str, port: int) -> Sequence[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return ()
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: str) -> bool:
    """Whether ``address`` is a public unicast address (IPv4-mapped IPv6 judged as its IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


class _PinnedAdapter(HTTPAdapter):
    """Connects to one checked address while the URL (so ``Host``, SNI and certificate checks)
    keeps the host name."""

    def __init__(self, address: str, host: str) -> None:
        self._address = address
        self._host = host
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        params: dict[str, Any] = dict(host_params)
        kwargs: dict[str, Any] = dict(pool_kwargs)
        params["host"] = self._address
        if params.get("scheme") == "https":
            kwargs["server_hostname"] = self._host
            kwargs["assert_hostname"] = self._host
        return params, kwargs


@dataclass
class _Entry:
    fetched: Fetched
    expires: float


@dataclass
class SafeFetcher:
    """Fetches documents under a :class:`FetchPolicy`. Thread-safe; share one per process."""

    policy: FetchPolicy = field(default_factory=FetchPolicy)
    resolver: Resolver = system_resolver
    clock: Callable[[], float] = time.monotonic
    _cache: OrderedDict[tuple[str, str], _Entry] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, url: str, *, accept: str = "*/*", cache: bool = True) -> Fetched:
        """GET ``url`` (following checked redirects). Any status is returned; callers judge it."""
        key = (url, accept)
        if cache:
            with self._lock:
                entry = self._cache.get(key)
                if entry is not None and entry.expires > self.clock():
                    self._cache.move_to_end(key)
                    return entry.fetched
        fetched = self._follow("GET", url, {"Accept": accept}, None)
        ttl = self._ttl(fetched)
        if cache and ttl > 0:
            with self._lock:
                self._cache[key] = _Entry(fetched, self.clock() + ttl)
                self._cache.move_to_end(key)
                while len(self._cache) > self.policy.cache_entries:
                    self._cache.popitem(last=False)
        return fetched

    def get_as(self, url: str, headers: Mapping[str, str], *, accept: str = "*/*") -> Fetched:
        """GET ``url`` with credentials in ``headers`` (``Authorization``, ``DPoP``): never cached,
        since the answer depends on who asks, and redirects are not followed, so the credentials
        (bound to this one URL by the DPoP proof, RFC 9449 §4.2) never reach another URL."""
        sent = {**headers, "Accept": accept}
        return self._once("GET", url, sent, None, self.clock() + self.policy.total_timeout)

    def post(
        self,
        url: str,
        body: bytes,
        *,
        content_type: str,
        accept: str = "*/*",
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """POST ``body`` to ``url`` with extra ``headers`` (e.g. ``Authorization`` and ``DPoP``).
        Redirects are not followed (a POST body is not re-sent)."""
        sent = {**(headers or {}), "Accept": accept, "Content-Type": content_type}
        return self._follow("POST", url, sent, body)

    def forget(self, url: str | None = None) -> None:
        """Drop ``url`` (or everything) from the cache."""
        with self._lock:
            if url is None:
                self._cache.clear()
            else:
                for key in [k for k in self._cache if k[0] == url]:
                    del self._cache[key]

    def _ttl(self, fetched: Fetched) -> float:
        if fetched.status != 200:
            return 0.0
        control = fetched.headers.get("cache-control", "").lower()
        if "no-store" in control or "no-cache" in control:
            return 0.0
        match = _MAX_AGE.search(control)
        ttl = float(match.group(1)) if match else self.policy.default_ttl
        return min(ttl, self.policy.max_ttl)

    def _follow(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Fetched:
        deadline = self.clock() + self.policy.total_timeout
        for _hop in range(self.policy.max_redirects + 1):
            fetched = self._once(method, url, headers, body, deadline)
            location = fetched.headers.get("location")
            if method != "GET" or fetched.status not in _REDIRECTS or not location:
                return fetched
            url = urljoin(url, location)
        raise FetchError(
            f"{_host(url)} redirected more than {self.policy.max_redirects} times", reason="redirects"
        )

    def _check(self, url: str) -> tuple[str, str, int]:
        """Return ``(host, address, port)`` for a URL the policy allows, else raise."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise FetchError("the URL is not valid", reason="url") from None
        if parts.scheme not in {"http", "https"}:
            raise FetchError("only http and https URLs can be fetched", reason="scheme")
        host = (parts.hostname or "").lower()
        if not host:
            raise FetchError("the URL has no host", reason="url")
        if parts.username is not None or parts.password is not None:
            raise FetchError("URLs with user names or passwords are not fetched", reason="url")
        port = port or (443 if parts.scheme == "https" else 80)
        addresses = self.resolver(host, port)
        if not addresses:
            raise FetchError(f"{host} could not be resolved", reason="dns")
        trusted = self.policy.allow_private or host in self.policy.allow_hosts
        if not trusted and not all(is_public_address(a) for a in addresses):
            raise FetchError(
                f"{host} resolves to a private, loopback or reserved address, which this server does "
                "not fetch from (operators: set fetch_allow_private or fetch_allow_hosts)",
                reason="private-address",
            )
        return host, addresses[0], port

    def _once(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, deadline: float
    ) -> Fetched:
        host, address, _port = self._check(url)
        session = requests.Session()
        session.trust_env = False  # no proxies or .netrc from the environment
        adapter = _PinnedAdapter(address, host)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        remaining = deadline - self.clock()
        if remaining <= 0:
            raise FetchError(f"{host} did not answer in time", reason="timeout")
        timeout = (min(self.policy.connect_timeout, remaining), min(self.policy.read_timeout, remaining))
        try:
            with (
                session,
                session.request(
                    method,
                    url,
                    # Host names the server we meant, though the connection goes to the pinned address.
                    headers={"User-Agent": self.policy.user_agent, **headers, "Host": urlsplit(url).netloc},
                    data=body,
                    timeout=timeout,
                    allow_redirects=False,
                    stream=True,
                ) as response,
            ):
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.policy.max_bytes:
                    raise FetchError(
                        f"the document at {host} is larger than {self.policy.max_bytes} bytes",
                        reason="too-large",
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_content(chunk_size=16384):
                    size += len(chunk)
                    if size > self.policy.max_bytes:
                        raise FetchError(
                            f"the document at {host} is larger than {self.policy.max_bytes} bytes",
                            reason="too-large",
                        )
                    if self.clock() > deadline:
                        raise FetchError(f"{host} did not answer in time", reason="timeout")
                    chunks.append(chunk)
                return Fetched(
                    url=url,
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=b"".join(chunks),
                )
        except requests.Timeout:
            raise FetchError(f"{host} did not answer in time", reason="timeout") from None
        except requests.RequestException as exc:
            if any(isinstance(arg, ReadTimeoutError) for arg in exc.args):  # a slow body
                raise FetchError(f"{host} did not answer in time", reason="timeout") from None
            raise FetchError(f"{host} could not be reached", reason="connection") from None


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "the server"
    except ValueError:
        return "the server"


__all__ = [
    "FetchError",
    "FetchPolicy",
    "Fetched",
    "Resolver",
    "SafeFetcher",
    "fetcher_for",
    "is_public_address",
]
