"""Production entry point: ``gunicorn -w 2 -k gthread --threads 8 wsgi:app``.

Settings come from the ``POD_SERVER_*`` environment (see pod_server/config.py).
"""

from pod_server import create_app

app = create_app()
