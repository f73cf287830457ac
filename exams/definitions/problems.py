"""What is wrong with a test definition, and where.

The validator (exams.definitions.format), the services and the QTI import all report a problem
the same way: the path of the value at fault and what is wrong with it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DefinitionInvalid(Exception):
    """A definition that cannot be used; `problems` says what and where."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class Problems(list):
    """The problems a validation collects; `add` names the path."""

    def add(self, path: str, message: str) -> None:
        self.append(Problem(path, message))
