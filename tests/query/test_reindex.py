"""``pod-server reindex``: builds the query index from storage and reports counts and time."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pod_server.cli import main


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path / "data")])
    return result.exit_code, result.output


def test_reindex_counts_every_pod_or_one(tmp_path: Path) -> None:
    for name in ("alice", "bob"):
        code, out = _run(tmp_path, "account", "create", "--email", f"{name}@example.org",
                         "--password", "password1", "--pod", name)  # fmt: skip
        assert code == 0, out
    code, out = _run(tmp_path, "reindex", "--json")
    assert code == 0, out
    everything = json.loads(out)
    assert everything["pod"] == "all"
    assert everything["documents"] > 0 and everything["triples"] > everything["documents"]
    assert everything["seconds"] >= 0

    code, out = _run(tmp_path, "reindex", "--pod", "alice", "--json")
    assert code == 0, out
    alice = json.loads(out)
    assert alice["documents"] * 2 == everything["documents"]  # two pods made alike

    code, out = _run(tmp_path, "reindex", "--pod", "alice")
    assert code == 0 and "documents: " in out and "seconds: " in out


def test_a_document_that_does_not_parse_is_left_out(tmp_path: Path) -> None:
    _run(
        tmp_path, "account", "create", "--email", "a@example.org", "--password", "password1", "--pod", "alice"
    )
    _, before = _run(tmp_path, "reindex", "--pod", "alice", "--json")
    (tmp_path / "data" / "storage" / "alice" / "settings" / "prefs.ttl").write_text("this is { not turtle")
    _, after = _run(tmp_path, "reindex", "--pod", "alice")
    documents = next(
        int(line.split(": ")[1]) for line in after.splitlines() if line.startswith("documents: ")
    )
    assert documents == json.loads(before)["documents"] - 1


def test_reindex_refusals(tmp_path: Path) -> None:
    code, out = _run(tmp_path, "reindex", "--pod", "nobody")
    assert code == 1 and "no pod named 'nobody'" in out
    code, out = _run(tmp_path, "reindex", "--single-pod", "--pod", "alice")
    assert code == 2 and "leave out --pod" in out
    code, out = _run(tmp_path, "reindex", "--backend", "memory")
    assert code == 2 and "memory backend" in out


def test_help_says_running_servers_need_no_reindex() -> None:
    out = CliRunner().invoke(main, ["reindex", "--help"]).output
    assert "each worker builds its in-memory index from storage" in " ".join(out.split())
