"""Production entry point: ``gunicorn -w 2 -k pod_server.gunicorn.Worker --threads 8 wsgi:app``.

The worker class is gunicorn's gthread worker that hands notification sockets (WebSocket,
streaming HTTP) to the in-process hub instead of holding a thread for each; ``-k gthread`` works
too, with one parked thread per live connection.

Settings come from the ``POD_SERVER_*`` environment (see pod_server/config.py).
"""

from pod_server import create_app

app = create_app()
