"""Watch a resource on a Solid pod and print each change (Solid Notifications Protocol,
WebSocketChannel2023). Needs ``requests``, ``rdflib`` and ``websocket-client``.

    python docs/examples/notifications.py http://localhost:3000/notes/todo.ttl

For a private resource, send the subscription with your Solid-OIDC credentials: pass a
``requests.Session`` (or anything with ``head``/``get``/``post``) that adds ``Authorization`` and
``DPoP`` headers. The WebSocket itself needs none: its URL is the capability.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import requests
import websocket
from rdflib import Graph, Namespace

SOLID = Namespace("http://www.w3.org/ns/solid/terms#")
NOTIFY = Namespace("http://www.w3.org/ns/solid/notifications#")


def websocket_service(topic: str, http: Any = requests) -> str:
    """Discovery: the topic's storage description lists the subscription services."""
    description_url = http.head(topic, timeout=10).links[str(SOLID.storageDescription)]["url"]
    answer = http.get(description_url, headers={"Accept": "text/turtle"}, timeout=10)
    graph = Graph().parse(data=answer.text, format="turtle", publicID=description_url)
    for service in graph.subjects(NOTIFY.channelType, NOTIFY.WebSocketChannel2023):
        return str(service)
    raise LookupError("this storage offers no WebSocketChannel2023 subscriptions")


def watch(topic: str, http: Any = requests, **features: str) -> Iterator[dict[str, Any]]:
    """Subscribe to ``topic`` and yield each notification (an Activity Streams 2.0 activity).

    ``features`` are the channel features, e.g. ``rate="PT5S"`` or ``state='"etag"'``."""
    request = {
        "@context": ["https://www.w3.org/ns/solid/notification/v1"],
        "type": str(NOTIFY.WebSocketChannel2023),
        "topic": topic,
        **features,
    }
    answer = http.post(
        websocket_service(topic, http),
        data=json.dumps(request),
        headers={"Content-Type": "application/ld+json"},
        timeout=10,
    )
    answer.raise_for_status()
    channel = answer.json()
    socket = websocket.create_connection(channel["receiveFrom"])
    try:
        while True:
            message = socket.recv()
            if not message:  # the server closed the channel (endAt, unsubscribed, access revoked)
                return
            yield json.loads(message)
    finally:
        socket.close()


if __name__ == "__main__":
    for activity in watch(sys.argv[1]):
        print(activity["published"], activity["type"], activity["object"], activity.get("state", ""))
