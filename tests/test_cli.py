"""The operator commands: account, pod and credentials, with --json, on the server's data folder."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from rdflib import Graph, URIRef

from pod_server.cli import main
from pod_server.vocab import SOLID
from tests.access.helpers import with_credentials
from tests.live import LiveProcess, free_port, gunicorn_command, pod_server_command, server_env


def _run(tmp_path: Path, *args: str, input: str | None = None, ok: bool = True) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path / "data")], input=input)
    if ok:
        assert result.exit_code == 0, result.output
    return result.exit_code, result.output


def test_account_create_with_pod_and_credentials_prints_the_bench_json(tmp_path: Path) -> None:
    _, out = _run(
        tmp_path, "account", "create", "--email", "a@example.org", "--password", "password1",
        "--pod", "alice", "--credentials", "--json",
    )  # fmt: skip
    made = json.loads(out)
    assert {"webid", "pod", "client_id", "client_secret", "issuer"} <= set(made)
    assert made["pod"] == "http://localhost:3000/alice/" and made["webid"] == made["pod"] + "profile/card#me"
    assert (tmp_path / "data" / "pod-server.sqlite3").exists()


def test_password_is_prompted_hidden_when_omitted(tmp_path: Path) -> None:
    _, out = _run(
        tmp_path, "account", "create", "--email", "a@example.org", "--json", input="password1\npassword1\n"
    )
    assert "password1" not in out.split("}")[0].split("{", 1)[1]
    _, out = _run(tmp_path, "account", "list", "--json")
    assert [a["email"] for a in json.loads(out)] == ["a@example.org"]


def test_pod_and_credentials_commands(tmp_path: Path) -> None:
    _run(tmp_path, "account", "create", "--email", "a@example.org", "--password", "password1")
    _, out = _run(tmp_path, "pod", "create", "--account", "a@example.org", "--name", "alice", "--json")
    assert json.loads(out) == {
        "pod": "http://localhost:3000/alice/",
        "webid": "http://localhost:3000/alice/profile/card#me",
    }
    _, out = _run(
        tmp_path, "credentials", "create", "--account", "a@example.org",
        "--webid", "http://localhost:3000/alice/profile/card#me", "--json",
    )  # fmt: skip
    assert set(json.loads(out)) == {"client_id", "client_secret", "webid", "issuer"}
    _, out = _run(tmp_path, "account", "list", "--json")
    assert json.loads(out)[0]["pods"] == ["http://localhost:3000/alice/"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["pod", "create", "--account", "nobody@example.org", "--name", "x"], "no account"),
        (["pod", "create", "--account", "a@example.org", "--name", "Bad Name"], "pod name"),
        (["pod", "create", "--account", "a@example.org", "--name", "taken"], "already exists"),
        (["account", "create", "--email", "a@example.org", "--password", "password1"], "already exists"),
        (["account", "create", "--email", "bad", "--password", "password1"], "email address"),
        (["account", "create", "--email", "b@example.org", "--password", "short"], "at least 8"),
        (
            ["account", "create", "--email", "b@example.org", "--password", "password1", "--credentials"],
            "--pod",
        ),
        (["account", "delete", "--email", "a@example.org"], "--export PATH"),
        (
            ["credentials", "create", "--account", "a@example.org", "--webid", "https://x.example/#me"],
            "WebIDs",
        ),
        (["account", "list", "--backend", "memory"], "memory backend"),
    ],
)
def test_errors_are_clear_and_exit_non_zero(tmp_path: Path, args: list[str], message: str) -> None:
    _run(
        tmp_path, "account", "create", "--email", "a@example.org", "--password", "password1", "--pod", "taken"
    )
    code, out = _run(tmp_path, *args, ok=False)
    assert code != 0 and message in out and "Traceback" not in out
    _, listed = _run(tmp_path, "account", "list", "--json")
    assert [a["email"] for a in json.loads(listed)] == ["a@example.org"]  # nothing half-made


def test_account_delete_with_export_and_without(tmp_path: Path) -> None:
    _run(
        tmp_path, "account", "create", "--email", "a@example.org", "--password", "password1", "--pod", "alice"
    )
    _run(tmp_path, "account", "create", "--email", "b@example.org", "--password", "password1", "--pod", "bob")
    archive = tmp_path / "alice.zip"
    _, out = _run(
        tmp_path, "account", "delete", "--email", "a@example.org", "--export", str(archive), "--json"
    )
    assert json.loads(out)["pods"] == ["http://localhost:3000/alice/"]
    with zipfile.ZipFile(archive) as z:
        assert "alice/profile/card" in z.namelist()
    code, out = _run(
        tmp_path, "account", "delete", "--email", "b@example.org", "--export", str(archive), ok=False
    )
    assert code != 0 and "already exists" in out  # never overwrites a file
    _run(tmp_path, "account", "delete", "--email", "b@example.org", "--delete-pods")
    _, out = _run(tmp_path, "account", "list", "--json")
    assert json.loads(out) == []
    assert not (tmp_path / "data" / "storage" / "alice").exists()


@pytest.mark.slow
def test_account_create_against_a_running_server(tmp_path: Path) -> None:
    """The bench recipe: `pod-server account create ... --json` beside a running gunicorn server."""
    port = free_port()
    env = server_env(tmp_path / "data", port)
    env["POD_SERVER_SINGLE_POD"] = "0"
    with LiveProcess(gunicorn_command(port), env=env, log=tmp_path / "server.log") as server:
        base = f"http://127.0.0.1:{port}/"
        server.wait_ready(base + ".account/login")
        done = subprocess.run(
            pod_server_command("account", "create", "--email", "bench@example.org", "--password", "password1",
                               "--pod", "bench", "--credentials", "--json"),
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        made = json.loads(done.stdout)
        assert made["pod"] == base + "bench/" and made["issuer"] == base
        # The pod is private; the printed credentials give its owner a DPoP-bound token.
        assert requests.get(made["pod"], timeout=10).status_code == 401
        owner = with_credentials(base, made["client_id"], made["client_secret"], made["webid"])
        r = owner.get(made["pod"])
        assert r.status_code == 200 and f"<{made['webid']}>" in r.headers["Link"]
        card = requests.get(base + "bench/profile/card", timeout=10)
        assert card.status_code == 200 and "oidcIssuer" in card.text
        assert owner.put(made["pod"] + "hello.txt", b"hi", {"Content-Type": "text/plain"}).status_code == 201
        r = requests.post(
            base + ".account/api/login",
            json={"email": "bench@example.org", "password": "password1"},
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["account"]["pods"][0]["pod"] == made["pod"]


@pytest.mark.slow
def test_serve_seeds_the_owner_at_first_start(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(tmp_path / "data", port, seed_email="owner@example.org", seed_password="password1")
    with LiveProcess(gunicorn_command(port), env=env, log=tmp_path / "server.log") as server:
        base = f"http://127.0.0.1:{port}/"
        server.wait_ready(base)
        # The seeded pod is its owner's: private, with a public WebID profile naming the issuer.
        assert requests.get(base, timeout=10).status_code == 401
        card = requests.get(base + "profile/card", headers={"Accept": "text/turtle"}, timeout=10)
        assert card.status_code == 200
        profile = Graph().parse(data=card.text, format="turtle", publicID=base + "profile/card")
        assert (URIRef(base + "profile/card#me"), SOLID.oidcIssuer, URIRef(base)) in profile
        r = requests.post(
            base + ".account/api/login",
            json={"email": "owner@example.org", "password": "password1"},
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["account"]["pods"][0]["pod"] == base
    _, out = _run(tmp_path, "account", "list", "--json", "--single-pod")
    assert [a["email"] for a in json.loads(out)] == ["owner@example.org"]
