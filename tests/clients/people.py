"""Sessions and pods for the people of tests/access/helpers.py (``make_person``), logged in with
client credentials through pod_client's own :class:`~pod_client.session.Session`."""

from __future__ import annotations

from pod_client.pod import Pod
from pod_client.session import Session

from tests.access.helpers import Person
from tests.conftest import LiveServer

_SESSIONS: dict[tuple[str, str, str], Session] = {}


def session_for(server: LiveServer, person: Person, app: str = "script") -> Session:
    """A client-credentials session for ``person``, one client id per ``app`` (cached)."""
    key = (server.url, person.account_id, app)
    if key not in _SESSIONS:
        made = server.app.extensions["pod_server.accounts"].create_credential(
            person.account_id, person.webid, app
        )
        _SESSIONS[key] = Session.client_credentials(server.url, made.client_id, made.client_secret)
    return _SESSIONS[key]


def pod_for(server: LiveServer, person: Person | None, app: str = "script") -> Pod:
    """A pod client acting as ``person`` (the public when ``None``)."""
    session = Session.anonymous() if person is None else session_for(server, person, app)
    return Pod(session)
