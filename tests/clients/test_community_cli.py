"""``pod community``: argument mistakes are usage errors before any request, and the whole member
journey on a live provider-mode pod-server (found, join, accept, invite, contribute, acknowledge,
propose, vote, tally, ledger, leave) with ``--json`` answers and the exit codes of refusals.

Everyone logs in with ``pod login --client-id ... --client-secret ...``; "nobody" is a session file
that does not exist (the public).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from pod_client.cli import EXIT_CODES

from tests.access.helpers import PUBLIC
from tests.clients.cli_runner import User, cli_user, run, run_json
from tests.conftest import LiveServer, _serve

C = "https://host.example/commons/"


# -- arguments (no server: each mistake is found before any request) ----------------------------------


@pytest.mark.parametrize(
    "args,says",
    [
        (["propose", C, "--title", "x", "--value-rule", "care=2"], "credit_per_hour"),
        (["propose", C, "--title", "x", "--value-rule", "credit_per_hour=10,gardening=2"], "unknown"),
        (
            ["propose", C, "--title", "x", "--remove-member", "https://a/#me", "--value-rule", "x=1"],
            "one effect",
        ),
        (["propose", C, "--title", "x", "--role", "admin"], "--role goes with --admit-member"),
        (["propose", C, "--title", "x", "--decision-rule", "quorum=0.5"], "threshold"),
        (
            ["propose", C, "--title", "x", "--decision-rule", "quorum=2,threshold=0.5,period=P7D"],
            "between 0 and 1",
        ),
        (["propose", C], "--title"),
        (["vote", C + "proposals/1", "maybe"], "maybe"),
        (["vote", C + "decisions/1", "yes"], "not a motion"),
        (["ledger", C, "--period", "November"], "not a period"),
        (["ledger", C], "--period"),
        (["contribute", C, "--kind", "code", "--hours", "lots"], "not a number of hours"),
        (["contribute", C, "--kind", "code", "--hours", "-2"], "0 or more"),
        (["contribute", C, "--kind", "code", "--at", "yesterday"], "date and time"),
        (["contribute", C, "--kind", "code", "--at", "2026-11-03T16:00:00"], "time zone"),
        (["contribute", C, "--kind", "code", "--visibility", "friends"], "friends"),
        (["contribute", C, "--hours", "1"], "--kind"),
        (["accept", C, "--role", "admin"], "--role goes with --request"),
        (["create", "https://host.example/", "commons"], "--title"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], says: str) -> None:
    result = run(tmp_path / "none.json", "community", *args, code=2)
    assert says in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["join", C],
        ["leave", C],
        ["contribute", C, "--kind", "code"],
        ["vote", C + "proposals/1", "yes"],
        ["create", "https://host.example/", "commons", "--title", "Commons"],
    ],
)
def test_not_logged_in(tmp_path: Path, args: list[str]) -> None:
    result = run(tmp_path / "none.json", "community", *args, code=3)
    assert "pod login" in result.stderr


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = run(tmp_path / "none.json", "community", "--help").stdout
    for command in ("create", "join", "accept", "contribute", "acknowledge", "ledger", "propose", "vote"):
        assert command in out


# -- live ------------------------------------------------------------------------------------------------


@dataclass
class World:
    server: LiveServer
    alice: User
    bob: User
    carol: User
    nobody: Path
    url: str  # the community


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("pod-community-cli")
    for server in _serve(folder / "data", single_pod=False):
        alice, bob, carol = (cli_user(server, n, folder) for n in ("alice", "bob", "carol"))
        name = "commons" + uuid.uuid4().hex[:6]
        made = run_json(alice.session, "community", "create", server.url, name, "--title", "OpenMaps Commons")
        assert made["confirmed"] is True
        yield World(server, alice, bob, carol, folder / "none.json", made["pod"])


def test_the_journey(world: World) -> None:
    url, alice, bob, carol = world.url, world.alice, world.bob, world.carol
    shown = run(world.nobody, "community", "show", url).stdout
    assert "OpenMaps Commons" in shown and alice.webid in shown

    # bob asks to join; alice finds the request and accepts it
    joined = run_json(bob.session, "community", "join", url)
    requests = run_json(alice.session, "community", "requests", url)["requests"]
    assert [r["membership"] for r in requests if r["actor"] == bob.webid] == [joined["membership"]]
    run(bob.session, "community", "accept", url, "--request", joined["membership"], code=4)  # not an admin
    run(alice.session, "community", "accept", url, "--request", joined["membership"])
    # carol is invited and accepts
    run_json(alice.session, "community", "invite", url, carol.webid)
    run(carol.session, "community", "accept", url)
    roster = run_json(world.nobody, "community", "show", url)
    assert {m["webid"] for m in roster["members"] if m["confirmed"]} == {alice.webid, bob.webid, carol.webid}

    # bob contributes; carol (a member) sees it, alice acknowledges it, bob may not
    made = run_json(
        bob.session, "community", "contribute", url, "--kind", "documentation", "--hours", "3.5",
        "--note", "Rewrote the install guide", "--evidence", "https://git.example/pull/42",
        "--at", "2026-11-03T16:00:00Z", "--visibility", "community",
    )  # fmt: skip
    contribution = made["contribution"]
    assert PUBLIC.get(contribution.split("#")[0]).status_code == 401
    seen = run_json(carol.session, "community", "contributions", url)["contributions"]
    assert [c["hours"] for c in seen if c["contribution"] == contribution] == ["3.5"]
    run(bob.session, "community", "acknowledge", url, contribution, code=4)
    entry = run_json(alice.session, "community", "acknowledge", url, contribution)["entry"]
    assert entry.startswith(url + "ledger/")

    # no value rule yet: the ledger says so
    failed = run_json(alice.session, "community", "ledger", url, "--period", "2026-11", code=EXIT_CODES[422])
    assert failed["error"]["status"] == 422 and "value rule" in failed["error"]["message"]

    # a motion to adopt one; everyone votes yes; it passes
    motion = run_json(
        carol.session, "community", "propose", url, "--title", "Hours count",
        "--value-rule", "credit_per_hour=10,care=1.5,cap=40",
    )["motion"]  # fmt: skip
    listed = run_json(bob.session, "community", "proposals", url)["proposals"]
    assert [p["motion"] for p in listed] == [motion]
    for user in (alice, bob, carol):
        voted = run_json(user.session, "community", "vote", motion, "yes")
        assert voted["ballot"].startswith(user.person.pod + "votes/")
    tallied = run_json(bob.session, "community", "tally", motion)
    assert tallied["result"] == "pass"

    # the ledger: bob earns 35, written to credit/2026-11 (by an admin)
    credit = run_json(alice.session, "community", "ledger", url, "--period", "2026-11", "--write")
    totals = [(t["receiver"], Decimal(t["uncapped_amount"]), Decimal(t["amount"])) for t in credit["totals"]]
    assert totals == [(bob.webid, Decimal(35), Decimal(35))]
    assert [c["contribution"] for c in credit["claims"]] == [contribution]
    assert credit["report"] == url + "credit/2026-11"
    assert PUBLIC.get(credit["report"]).status_code == 200
    text = run(alice.session, "community", "ledger", url, "--period", "2026-10").stdout
    assert "no acknowledged contributions" in text

    # carol leaves
    run(carol.session, "community", "leave", url)
    roster = run_json(world.nobody, "community", "show", url)
    assert carol.webid not in {m["webid"] for m in roster["members"]}
    run(world.nobody, "community", "show", world.server.url + "no-such-community/", code=5)
