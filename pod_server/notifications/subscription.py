"""Reading a subscription request (Solid Notifications Protocol §6.2, "Subscription Request").

The body is RDF: JSON-LD under either notification context (``notification/v1`` or the ED's
``notifications-context/v1``) or Turtle, as ``@solid-notifications/subscription`` sends. It must
describe exactly one channel: one node with a ``notify:topic``, whose ``rdf:type`` is the channel
type of the service it is posted to. Anything we cannot process is a 422 (P#subscription-server-
subscription-request-unprocessable-entity); a media type we do not read is a 415, as is a
``profile`` parameter we do not know (P#subscription-server-subscription-request-profile-unrecognised).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from pod_server.errors import PodError, UnprocessableContent, UnsupportedMediaType
from pod_server.notifications.activity import accept_type
from pod_server.notifications.channel import ChannelType
from pod_server.rdf import formats
from pod_server.rdf.convert import parse
from pod_server.rdf.limits import RdfLimits
from pod_server.vocab import NOTIFY, RDF

_LIMITS = RdfLimits(max_bytes=64 * 1024, max_triples=200, max_literal_bytes=4096, max_jsonld_depth=16)
_READABLE = (formats.JSONLD, formats.TURTLE, "application/json")
_PROFILES = {
    "https://www.w3.org/ns/solid/notification/v1",
    "https://www.w3.org/ns/solid/notifications-context/v1",
}


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    """What a subscriber asked for, checked but not yet bounded by server policy."""

    type: ChannelType
    topic: str
    send_to: str | None = None
    state: str | None = None
    start_at: float | None = None
    end_at: float | None = None
    rate: float | None = None
    accept: str | None = None


def read_request(
    body: bytes, content_type: str, channel_type: ChannelType, service_url: str
) -> SubscriptionRequest:
    """The subscription ``body`` (with its ``Content-Type``) posted to the ``channel_type`` service."""
    media_type = formats.essence(content_type)
    if media_type not in _READABLE:
        raise UnsupportedMediaType(
            f"send the subscription as application/ld+json or text/turtle, not {media_type or 'nothing'}"
        )
    profile = formats.parameters(content_type).get("profile")
    if profile is not None and profile not in _PROFILES:
        raise UnsupportedMediaType(f"unknown JSON-LD profile {profile[:200]}; use {sorted(_PROFILES)[0]}")
    try:
        graph = parse(
            body, formats.JSONLD if media_type == "application/json" else media_type, service_url, _LIMITS
        )
    except UnsupportedMediaType:
        raise
    except PodError as e:
        raise UnprocessableContent(f"cannot read the subscription request: {e.detail}") from None
    subjects = set(graph.subjects(NOTIFY.topic, None))
    if not subjects:
        raise UnprocessableContent("the subscription has no topic: say which resource to watch with 'topic'")
    if len(subjects) > 1:
        raise UnprocessableContent("one subscription request describes one channel; this one has several")
    node = subjects.pop()
    _check_type(graph, node, channel_type, service_url)
    topic = _one_iri(graph, node, NOTIFY.topic, "topic")
    send_to = _optional_iri(graph, node, NOTIFY.sendTo, "sendTo")
    if channel_type == "WebhookChannel2023" and send_to is None:
        raise UnprocessableContent(
            "a WebhookChannel2023 subscription needs sendTo: the URL to POST notifications to"
        )
    return SubscriptionRequest(
        type=channel_type,
        topic=topic,
        send_to=send_to,
        state=_optional_text(graph, node, NOTIFY.state, "state"),
        start_at=_optional_time(graph, node, NOTIFY.startAt, "startAt"),
        end_at=_optional_time(graph, node, NOTIFY.endAt, "endAt"),
        rate=_optional_rate(graph, node),
        accept=_optional_accept(graph, node),
    )


def _check_type(graph: Graph, node: Node, channel_type: ChannelType, service_url: str) -> None:
    wanted = getattr(NOTIFY, channel_type)
    # A bare "WebSocketChannel2023" under the notification/v1 context (which has no term for it)
    # resolves against the request URL; clients copy that from the spec's own example.
    bare = URIRef(urljoin(service_url, channel_type))
    types = set(graph.objects(node, RDF.type))
    if not types:
        raise UnprocessableContent(f"the subscription has no type; say {wanted}")
    if len(types) > 1 or not types & {wanted, bare}:
        raise UnprocessableContent(
            f"this service makes {wanted} channels; the request asks for "
            + ", ".join(sorted(str(t) for t in types))
        )


def _values(graph: Graph, node: Node, predicate: URIRef, name: str) -> list[Node]:
    found = list(graph.objects(node, predicate))
    if len(found) > 1:
        raise UnprocessableContent(f"give {name} at most once")
    return found


def _one_iri(graph: Graph, node: Node, predicate: URIRef, name: str) -> str:
    value = _optional_iri(graph, node, predicate, name)
    if value is None:
        raise UnprocessableContent(f"{name} is required")
    return value


def _optional_iri(graph: Graph, node: Node, predicate: URIRef, name: str) -> str | None:
    found = _values(graph, node, predicate, name)
    if not found:
        return None
    value = found[0]
    if not isinstance(value, URIRef) or not str(value).startswith(("http://", "https://")):
        raise UnprocessableContent(f"{name} must be an absolute http(s) URL")
    return str(value)


def _optional_text(graph: Graph, node: Node, predicate: URIRef, name: str) -> str | None:
    found = _values(graph, node, predicate, name)
    if not found:
        return None
    if not isinstance(found[0], Literal):
        raise UnprocessableContent(f"{name} must be a string")
    return str(found[0])


def _optional_time(graph: Graph, node: Node, predicate: URIRef, name: str) -> float | None:
    found = _values(graph, node, predicate, name)
    if not found:
        return None
    value = found[0].toPython() if isinstance(found[0], Literal) else None
    if not isinstance(value, datetime):
        raise UnprocessableContent(f"{name} must be an xsd:dateTime such as 2026-12-01T12:00:00Z")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _optional_rate(graph: Graph, node: Node) -> float | None:
    found = _values(graph, node, NOTIFY.rate, "rate")
    if not found:
        return None
    value = found[0].toPython() if isinstance(found[0], Literal) else None
    if not isinstance(value, timedelta) or value.total_seconds() < 0:
        raise UnprocessableContent(
            "rate must be an xsd:duration in days, hours, minutes or seconds, such as PT10S"
        )
    return value.total_seconds()


def _optional_accept(graph: Graph, node: Node) -> str | None:
    text = _optional_text(graph, node, NOTIFY.accept, "accept")
    if text is None:
        return None
    try:
        return accept_type(text)
    except UnsupportedMediaType as e:  # a feature value we cannot honour: the request is unprocessable
        raise UnprocessableContent(e.detail) from None


__all__ = ["SubscriptionRequest", "read_request"]
