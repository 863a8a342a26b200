"""Observers: a lower layer announces what happened; higher layers that subscribed at start-up act.

A `Topic` is declared by the layer that announces it (`tessera.notifications`,
`tessera.tenancy.events`); a higher layer subscribes in its `AppConfig.ready()`. `publish` calls
every observer synchronously, in the caller's transaction, in the order they subscribed: an
observer's writes commit or roll back with the change that caused them, and an observer that
needs to wait for the commit (a push to a socket) says so itself (`transaction.on_commit`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Observer = Callable[..., object]


class Topic:
    """One kind of announcement and the observers subscribed to it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._observers: list[Observer] = []

    def subscribe(self, observer: Observer) -> Observer:
        """Call `observer(**facts)` on every publish (subscribing twice is subscribing once)."""
        if observer not in self._observers:
            self._observers.append(observer)
        return observer

    def publish(self, **facts: Any) -> None:
        for observer in tuple(self._observers):
            observer(**facts)

    def __repr__(self) -> str:
        return f"Topic({self.name!r}, {len(self._observers)} observers)"
