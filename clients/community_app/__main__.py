"""``python -m community_app [--host 127.0.0.1] [--port 5000]``: serve the app with Werkzeug's
server (threaded; the logins live in this one process). Settings come from ``COMMUNITY_APP_*``."""

from __future__ import annotations

import argparse
import sys

from community_app import create_app
from community_app.config import AppConfig, ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m community_app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    try:
        config = AppConfig.from_env()
    except ConfigError as exc:
        print(f"community_app: {exc}", file=sys.stderr)
        return 2
    create_app(config).run(host=args.host, port=args.port, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
