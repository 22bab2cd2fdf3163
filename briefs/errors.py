"""Errors the engine raises on purpose: each carries a message fit to show a user."""

from __future__ import annotations


class BriefbotError(Exception):
    """Base class: the message is one clear, actionable line."""


class SettingsError(BriefbotError):
    """A setting (file or environment variable) has a value we cannot use."""


class InputError(BriefbotError):
    """A file or argument given by the user cannot be used; nothing was stored."""


class NotFoundError(BriefbotError):
    """A reference (document, sentence, entity, topic) does not exist."""


def internal_error(exc: BaseException) -> str:
    """One line for a user about an unexpected error: its kind and the first line of its
    message, never the SQL statement and parameters a database error carries (``str()`` of a
    SQLAlchemy error appends them). The log has the full details."""
    # Imported here, not at the top: every command imports this module, and SQLAlchemy is
    # large (``briefbot --help`` needs none of it).
    from sqlalchemy.exc import StatementError

    cause: BaseException | None = exc
    if isinstance(exc, StatementError):  # the driver's own error, without the statement
        cause = exc.orig if isinstance(exc.orig, BaseException) else None
    if cause is None:
        return f"internal error: {type(exc).__name__} (details in the log)"
    lines = str(cause).strip().splitlines()
    first = f": {lines[0].strip()}" if lines else ""
    return f"internal error: {type(cause).__name__}{first}"[:240] + " (details in the log)"


class StoreDamaged(BriefbotError):
    """The store's file is damaged (corrupt pages, undecodable text): restore a backup."""


class StoreReadOnly(BriefbotError):
    """The store cannot be written (a read-only mount, permissions) and the command must write."""
