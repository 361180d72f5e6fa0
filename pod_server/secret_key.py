"""The key that signs session cookies and CSRF tokens: made at first start, kept in the data folder.

It is never in the repository or the logs. Every worker of one server reads the same file, so a
session made by one worker is valid on all of them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_NAME = "secret_key"


def load_or_create(data_dir: Path) -> bytes:
    """The server's secret key, created (mode 0600) if missing. Safe when several processes race."""
    path = data_dir / FILE_NAME
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    temp = data_dir / f".{FILE_NAME}.{os.getpid()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # fails if another process won the race: then use theirs
    except FileExistsError:
        pass
    finally:
        temp.unlink(missing_ok=True)
    return path.read_bytes()


__all__ = ["load_or_create"]
