"""The two kinds of failure a planner can act on, and the exit codes the CLI maps them to."""

from __future__ import annotations

from typing import Any


class ZoneoptError(Exception):
    """Base class of every error zoneopt raises on purpose."""

    exit_code = 1


class ZoneoptInputError(ZoneoptError, ValueError):
    """Bad input: the message names the file, the row or id, the column, what is wrong and the fix.

    Parameters
    ----------
    message
        What is wrong and how to fix it, in a planner's words.
    file, row, column
        Where it is wrong; each is put in front of the message when given.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: Any = None,
        row: Any = None,
        column: str | None = None,
    ) -> None:
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.detail = message
        where = []
        if self.file:
            where.append(f"{self.file}")
        if row is not None:
            where.append(f"row/id {row!s}")
        if column is not None:
            where.append(f"column '{column}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class InfeasibleError(ZoneoptError):
    """The policy asks for the impossible; ``diagnosis`` says which part and by how much.

    Parameters
    ----------
    diagnosis
        Plain-language findings, one per list item.
    """

    exit_code = 3

    def __init__(self, diagnosis: list[str], plan: Any = None) -> None:
        self.diagnosis = list(diagnosis)
        self.plan = plan
        super().__init__("no plan satisfies the scenario:\n- " + "\n- ".join(self.diagnosis))


class NoSolutionError(ZoneoptError):
    """The time limit ran out before any plan satisfying the scenario was found."""

    exit_code = 4

    def __init__(self, message: str, plan: Any = None) -> None:
        self.plan = plan
        super().__init__(message)
