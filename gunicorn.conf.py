"""gunicorn settings, read from the working directory by `gunicorn app:app` (command-line flags win).

The app is loaded once in the master and forked into the workers (preload), with Python's
garbage collector kept off the loaded objects: gc.disable() while loading, gc.freeze() just before
each fork, gc.enable() in each worker (the recipe of the gc module's documentation). The workers
then share the master's pages instead of each copying them as collections touch every object, and
a worker's collections no longer walk the app's hundred-thousand-odd long-lived objects, which
shortens the pauses that show up in the slowest requests.
"""
from __future__ import annotations

import gc
import os

preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"

gc.disable()  # until the fork: no collection leaves holes in pages the workers will share


def pre_fork(server, worker) -> None:
    """Move everything loaded so far out of the collector's reach, just before forking a worker."""
    gc.freeze()


def post_fork(server, worker) -> None:
    """In the new worker: collect again, and open database connections of its own."""
    gc.enable()
    app = server.app.wsgi()
    if not hasattr(app, "app_context"):  # another WSGI app (benchmarks/bare_wsgi.py)
        return
    from touchpoints.extensions import db

    with app.app_context():
        # Connections opened in the master (if any) must not be shared across processes.
        db.engine.dispose(close=False)
