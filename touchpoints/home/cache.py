"""A short-lived cache of each person's rendered home page, in each worker process.

A home page gathers a dozen figures across the company; most people look at it many times a day
while little of it changes. Each person's page is kept for HOME_CACHE_SECONDS (60 by default, 0 in
tests) and then drawn again, so other people's changes show within a minute. One's own changes show
at once: every successful write a person makes (any POST, PUT, PATCH or DELETE) stamps their
session, and a page drawn before the stamp is not served again. The key holds the session's CSRF
secret, because the page carries forms with tokens valid for that session only.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from flask import current_app

DEFAULT_SECONDS = 60
MAX_ENTRIES = 512  # people active within a minute on one worker; older entries go first
WROTE_AT = "home_wrote_at"  # session key: when this person last changed something


class FragmentCache:
    """Rendered HTML by key, each with the moment it was drawn; least recently used go first."""

    def __init__(self, size: int = MAX_ENTRIES):
        self._entries: OrderedDict[Hashable, tuple[float, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()  # the development server and `make run` serve from threads

    def get(self, key: Hashable, *, max_age: float, fresh_after: float = 0.0,
            now: float | None = None) -> str | None:
        """The fragment if it is younger than max_age and was drawn after fresh_after, else None."""
        now = time.time() if now is None else now
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            drawn, html = entry
            if now - drawn >= max_age or drawn <= fresh_after:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return html

    def put(self, key: Hashable, html: str, *, now: float | None = None) -> None:
        """Keep a fragment drawn now."""
        with self._lock:
            self._entries[key] = (time.time() if now is None else now, html)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


HOME_PAGES = FragmentCache()


def cache_seconds() -> int:
    """How long a drawn home page is served again: HOME_CACHE_SECONDS (0 in the test configuration)."""
    return int(current_app.config.get("HOME_CACHE_SECONDS", DEFAULT_SECONDS))
