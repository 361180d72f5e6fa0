"""Bus messages survive the JSON round trip; anything else on the channel is refused."""

from __future__ import annotations

import pytest

from pod_server.errors import BadRequest
from pod_server.notifications.change import Change, ChannelClosed, WebhooksChanged, decode, encode

CHANGE = Change("created", "/pod/a", "http://x/pod/a", "e1", "/pod/", "http://x/pod/", 1.5, "urn:uuid:1")


@pytest.mark.parametrize(
    "message", [CHANGE, ChannelClosed("http://x/.notifications/WebSocketChannel2023/1"), WebhooksChanged()]
)
def test_round_trip(message: object) -> None:
    assert decode(encode(message)) == message  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[" * 100_000,
        b'{"type": "change"}',
        b'{"type": "change", "kind": 1, "path": "/", "url": "u", "etag": "e", "id": "i", "published": 1}',
        b'{"type": "change", "kind": "eaten", "path": "/", "url": "u", "etag": "e", "id": "i", '
        b'"published": 1}',
        b'{"type": "closed"}',
        b'{"type": "other", "channel": "x"}',
        b"\xff\xfe",
    ],
)
def test_garbage_is_a_bad_request(data: bytes) -> None:
    with pytest.raises(BadRequest):
        decode(data)
