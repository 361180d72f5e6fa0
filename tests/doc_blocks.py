"""Code blocks of a Markdown page, for tests that run a page's examples.

A block meant to run is marked by an HTML comment on the line before its fence:
``<!-- tested -->``, or ``<!-- untested: why -->`` for one that cannot run in a test.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
MARK = re.compile(r"<!-- (tested|untested: .+) -->")
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    page: str  # the page's path from the repository root, e.g. "docs/client.md"
    line: int  # where the code starts in the page (1-based)
    mark: str | None  # "tested", "untested: <why>", or None when unmarked

    @property
    def tested(self) -> bool:
        return self.mark == "tested"

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: Path, language: str) -> list[Block]:
    """The ``language`` blocks of ``page``, in order, with their marks."""
    text = page.read_text(encoding="utf-8")
    name = str(page.resolve().relative_to(REPO))
    found = []
    for match in FENCE.finditer(text):
        if match.group(1) != language:
            continue
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = MARK.fullmatch(before.strip())
        line = text.count("\n", 0, match.start(2)) + 1
        found.append(Block(language, match.group(2), name, line, mark.group(1) if mark else None))
    return found


def run_shell(
    code: str, *, env: Mapping[str, str], cwd: Path, where: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` under bash with ``set -euo pipefail``; the test fails, naming ``where`` and
    showing the output, unless it exits 0."""
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + code],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{where}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done
