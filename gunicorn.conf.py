"""gunicorn settings, read from the working directory by `gunicorn app:app` (command-line flags win).

The app is loaded once in the master and forked into the workers (preload), with Python's
garbage collector kept off the loaded objects: gc.disable() while loading, gc.freeze() just before
each fork, gc.enable() in each worker (the recipe of the gc module's documentation). The workers
then share the master's pages instead of each copying them as collections touch every object, and
a worker's collections no longer walk the app's hundred-thousand-odd long-lived objects, which
shortens the pauses that show up in the slowest requests.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h

gc.disable()  # until the fork: no collection leaves holes in pages the workers will share


def pre_fork(server, worker) -> None:
    """Move everything loaded so far out of the collector's reach, just before forking a worker."""
    gc.freeze()


def _fixed_mmap_threshold(size: int = 128 * 1024) -> None:
    """Large blocks (a sign-in's 16 MiB scrypt buffer) always go back to the system when freed.

    glibc raises its mmap threshold to the size of the last large block freed, so after the first
    sign-in every later scrypt buffer came from the heap and stayed resident in the worker. Setting
    the threshold explicitly turns that adjustment off. Other C libraries are left as they are.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, size)
    except (OSError, AttributeError):
        pass


def post_fork(server, worker) -> None:
    """In the new worker: collect again, keep memory returnable, open database connections of its own."""
    gc.enable()
    _fixed_mmap_threshold()
    app = server.app.wsgi()
    if not hasattr(app, "app_context"):  # another WSGI app (benchmarks/bare_wsgi.py)
        return
    from touchpoints.extensions import db

    with app.app_context():
        # Connections opened in the master (if any) must not be shared across processes.
        db.engine.dispose(close=False)
