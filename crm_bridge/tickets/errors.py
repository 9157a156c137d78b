"""Domain errors of the CRM (pure): no HTTP status here; the web layer maps ``code``."""

from __future__ import annotations


class CrmError(ValueError):
    """A request the CRM refuses; ``code`` is a stable machine-readable id."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NotFound(CrmError):
    """No such ticket, service type or agency."""


class InvalidInput(CrmError):
    """Input that fails validation; ``problems`` lists (field, message) pairs."""

    def __init__(self, code: str, message: str,
                 problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(code, message)
        self.problems = problems or [(code, message)]
