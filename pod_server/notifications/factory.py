"""Building the notification service from settings: which bus, which channel store, which limits."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from pod_server.access.decision import AccessPolicy
from pod_server.config import Settings
from pod_server.db import Database
from pod_server.fetch import SafeFetcher
from pod_server.idp.signer import AgentSigner
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.notifications.bus import Bus, LocalBus
from pod_server.notifications.channel import ChannelStore, MemoryChannels
from pod_server.notifications.hub import Hub
from pod_server.notifications.service import NotificationPolicy, NotificationService
from pod_server.notifications.sibling_bus import SiblingBus
from pod_server.notifications.sql_channels import SqlChannels
from pod_server.notifications.webhooks import WebhookSender
from pod_server.store.resource_store import ResourceStore


def build_service(
    settings: Settings,
    store: ResourceStore,
    ids: IdentifierMap,
    access: AccessPolicy,
    database: Database,
    fetcher: SafeFetcher,
    signer: AgentSigner,
) -> NotificationService:
    """The service for one worker: Redis pub/sub when ``redis_url`` is set, else in-process."""
    bus: Bus
    if settings.redis_url:
        from pod_server.notifications.redis_bus import RedisBus

        # One channel per deployment: servers sharing a Redis never hear each other's changes.
        bus = RedisBus.from_url(settings.redis_url, channel=f"pod-server:notifications:{settings.base_url}")
    elif settings.backend != "memory":
        # Several workers on this machine, no other service: Unix sockets in the data folder.
        bus = SiblingBus(bus_folder(settings.data_dir))
    else:
        bus = LocalBus()
    # The memory backend is one process; its in-memory SQLite is one connection, which the
    # dispatcher thread must not share with request threads.
    channels: ChannelStore = MemoryChannels() if settings.backend == "memory" else SqlChannels(database)
    policy = NotificationPolicy(
        max_duration=settings.notification_max_duration,
        # http webhooks only where the safe fetcher may go privately anyway: development hosts.
        allow_http_send_to=frozenset(settings.fetch_allow_hosts),
        legacy=settings.notifications_legacy,
    )
    hub = Hub(
        ping_interval=settings.notification_ping_interval,
        max_connections=settings.notification_max_connections,
    )
    built: list[NotificationService] = []
    sender_webid = NotificationService.sender_of(settings.base_url)
    sender = WebhookSender(
        fetcher,
        channels,
        attempts=settings.webhook_attempts,
        backoff=settings.webhook_backoff,
        # A dropped webhook is closed like an unsubscribe: removed, and every worker told.
        on_drop=lambda channel: built[0].close_channel(channel),
        headers=lambda url: signer.headers(sender_webid, "POST", url),
    )
    service = NotificationService(
        store,
        ids,
        access,
        channels,
        bus,
        hub,
        base_url=settings.base_url,
        policy=policy,
        webhooks=sender,
    )
    built.append(service)
    return service


def bus_folder(data_dir: Path) -> Path:
    """Where the workers' bus sockets live: ``{data_dir}/run/bus``, or, when that path is too long
    for a Unix socket address (108 bytes), a private folder in the temporary directory named
    after the data folder."""
    folder = data_dir.resolve() / "run" / "bus"
    if len(str(folder)) + 32 < 100:
        return folder
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    private = Path(tempfile.gettempdir()) / f"pod-server-bus-{digest}"
    private.mkdir(mode=0o700, exist_ok=True)
    return private


__all__ = ["build_service", "bus_folder"]
