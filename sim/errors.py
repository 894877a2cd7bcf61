"""The one family of errors ccsim reports to people (never as a traceback)."""

from __future__ import annotations


class CcsimError(Exception):
    """Base of every error ccsim reports to a user."""


class ScenarioError(CcsimError):
    """One or more problems in a scenario file, each with file, line, field path and hint."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Problem:
    """One problem in a scenario: ``file:line: field.path: message (hint)``."""

    def __init__(self, file: str, line: int | None, field: str, message: str, hint: str = ""):
        self.file, self.line, self.field, self.message, self.hint = file, line, field, message, hint

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        field = f" {self.field}:" if self.field else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}:{field} {self.message}{hint}"

    def __repr__(self) -> str:
        return f"Problem({str(self)!r})"


class EngineError(CcsimError):
    """An engine could not run (for example, the compiled kernel is not built)."""
