"""Base errors of kitvet's layers.

Each layer raises its own subclass, always ``raise ... from e``; the CLI turns any
:class:`KitvetError` into one clear line on stderr and exit code 2.
"""

from __future__ import annotations


class KitvetError(Exception):
    """Base of every error kitvet reports to a user as one line."""

    def __init__(self, message: str, *, file: str | None = None, place: str | None = None):
        self.message = message
        self.file = file
        self.place = place
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file and self.place:
            where = f"{self.file}: {self.place}: "
        elif self.file:
            where = f"{self.file}: "
        elif self.place:
            where = f"{self.place}: "
        return f"{where}{self.message}"


class InventoryError(KitvetError):
    """An inventory document or source cannot be read."""


class SourceError(InventoryError):
    """A source (collector or importer) failed as a whole."""


class ListError(KitvetError):
    """A risk list is invalid, unsigned or cannot be loaded."""


class PolicyError(KitvetError):
    """A policy profile is invalid or unknown."""


class MatchError(KitvetError):
    """The matching engine failed."""


class StoreError(KitvetError):
    """The estate store failed or refused an operation."""


class ReportError(KitvetError):
    """A report cannot be produced."""


class EnforceError(KitvetError):
    """An enforcement export cannot be produced."""


class AlertError(KitvetError):
    """An alert configuration is invalid, or a receiver cannot be reached or refused."""
