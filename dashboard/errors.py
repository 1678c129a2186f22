"""The project's own exceptions: the UI and CLI catch these and show one sentence."""

from __future__ import annotations


class DashboardError(Exception):
    """Base of every error Reachmap explains to a user."""


class ValidationError(DashboardError, ValueError):
    """A value does not fit the model; the message names the field and the value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {reason} (got {value!r})")


class NotFoundError(DashboardError, LookupError):
    """A name, id or key that the gazetteer, catalogue or store does not hold."""


class StoreError(DashboardError):
    """The event store cannot be opened or written; nothing was changed."""


class ConflictError(StoreError):
    """An edit started from a version of an event that is no longer current: someone saved it meanwhile.

    `current` is the event as stored now (None if it was deleted) and `current_version` its version, so the
    second editor can see both versions and choose; nothing was written."""

    def __init__(self, message: str, current: object | None, current_version: int) -> None:
        self.current = current
        self.current_version = current_version
        super().__init__(message)
