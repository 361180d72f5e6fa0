"""Live updates: the Solid Notifications Protocol and the legacy solid-0.1 WebSocket protocol.

How a change travels (docs/notifications.md draws it):

1. the store sends a blinker signal (:mod:`pod_server.store.events`) in the writer's thread;
   :class:`~pod_server.notifications.service.NotificationService` turns it into a
   :class:`~pod_server.notifications.change.Change` and publishes it on the
   :class:`~pod_server.notifications.bus.Bus` (nothing slow happens in the writer's thread);
2. the bus brings it to every worker's dispatcher (in-process, or through Redis pub/sub);
3. each dispatcher writes to the WebSocket and streaming connections it holds
   (:mod:`pod_server.notifications.hub`), after checking that the subscriber may still read the
   topic; webhooks are posted once, by the worker that made the change
   (:mod:`pod_server.notifications.webhooks`).
"""
