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


class StoreDamaged(BriefbotError):
    """The store's file is damaged (corrupt pages, undecodable text): restore a backup."""


class StoreReadOnly(BriefbotError):
    """The store cannot be written (a read-only mount, permissions) and the command must write."""
