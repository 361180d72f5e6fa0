"""Extra bus listeners (NotificationService.add_listener): every change message also reaches
them, after the dispatcher, and a failing listener harms neither the dispatcher nor the others.
The query index listens this way for writes made in other workers."""

from __future__ import annotations

from pathlib import Path

from pod_server import create_app
from pod_server.config import Settings
from pod_server.notifications.change import Change, Message
from tests.notifications.hub_app import wait_for


def test_listeners_hear_every_change_and_survive_a_failing_one(tmp_path: Path) -> None:
    app = create_app(Settings(backend="memory", data_dir=tmp_path, base_url="http://localhost:3000/"))
    notifier = app.extensions["pod_server.notifications"]
    store = app.extensions["pod_server.store"]
    heard: list[Message] = []

    def failing(message: Message) -> None:
        raise RuntimeError("listener bug")

    notifier.add_listener(failing)
    notifier.add_listener(heard.append)
    dispatched: list[Message] = []
    original = notifier.dispatcher.publish_to
    notifier.dispatcher.publish_to = lambda m: (dispatched.append(m), original(m))  # type: ignore[method-assign]
    try:
        url = "http://localhost:3000/listen/doc.ttl"
        store.put("/listen/doc.ttl", b"<#a> <#b> <#c> .", "text/turtle", url)
        store.delete("/listen/doc.ttl")

        def changes() -> list[tuple[str, str]]:
            return [(m.kind, m.path) for m in heard if isinstance(m, Change)]

        assert wait_for(lambda: ("deleted", "/listen/doc.ttl") in changes())
        assert ("created", "/listen/doc.ttl") in changes()
        assert [m for m in dispatched if isinstance(m, Change)] == [m for m in heard if isinstance(m, Change)]
    finally:
        notifier.close()
