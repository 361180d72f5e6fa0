"""Running ``pod`` in tests: click's runner with a session file, and people logged in through
``pod login --client-id ... --client-secret ...`` (client credentials the live server's account
directory issues). Shared by the command-line tests."""

from __future__ import annotations

import json
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from pod_client.cli import cli

from tests.access.helpers import Agent, Person, log_in, make_person
from tests.conftest import LiveServer


def run(session: Path, *args: str, code: int = 0, input: str | bytes | None = None) -> Result:
    """``pod --session SESSION ARGS...`` through click's runner; asserts the exit code."""
    result = CliRunner().invoke(cli, ["--session", str(session), *args], input=input)
    if result.exit_code != code:
        trace = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
        raise AssertionError(
            f"pod {' '.join(args)}: exit {result.exit_code}, wanted {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\n{trace}"
        )
    return result


def run_json(session: Path, *args: str, code: int = 0) -> Any:
    return json.loads(run(session, "--json", *args, code=code).stdout)


@dataclass
class User:
    person: Person
    session: Path
    client_id: str
    client_secret: str
    agent: Agent  # test-side requests as this person, independent of the code under test

    @property
    def pod(self) -> str:
        return self.person.pod

    @property
    def webid(self) -> str:
        return self.person.webid

    def fresh(self) -> str:
        """A new, empty container in this person's pod."""
        url = f"{self.pod}cli-{uuid.uuid4().hex[:8]}/"
        assert self.agent.put(url, b"").status_code in (201, 204, 205)
        return url


def cli_user(server: LiveServer, name: str, folder: Path) -> User:
    """A new person with a pod on ``server``, logged in with ``pod login`` into ``folder/name.json``."""
    person = make_person(server, name)
    made = server.app.extensions["pod_server.accounts"].create_credential(
        person.account_id, person.webid, "cli"
    )
    session = folder / f"{name}.json"
    run(session, "login", "--issuer", server.url, "--client-id", made.client_id,
        "--client-secret", made.client_secret)  # fmt: skip
    return User(person, session, made.client_id, made.client_secret, log_in(server, person))
