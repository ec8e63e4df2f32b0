"""Callbacks one capability registers for another to run (checks, after-log, after-answer, ...)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

Callback = TypeVar("Callback", bound=Callable[..., Any])


class Hooks(Generic[Callback]):
    """An ordered set of callbacks: registering one twice (an app built twice in tests) keeps one."""

    def __init__(self) -> None:
        self._callbacks: list[Callback] = []

    def register(self, callback: Callback) -> Callback:
        """Add the callback unless it is there already; returns it, so it works as a decorator."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def remove(self, callback: Callback) -> None:
        """Take a callback away again (a test that registered its own)."""
        self._callbacks.remove(callback)

    def __iter__(self) -> Iterator[Callback]:
        return iter(tuple(self._callbacks))
