"""The what-if editor: move units by hand, see every figure and the checker's verdict at once.

:class:`Editor` is both a script API (``move``, ``undo``, ``figures``, ``violations``,
``reoptimize``, ``plan``) and, when displayed in a notebook, a map widget (:mod:`.widget`) that
calls the same methods.

Figures are kept incrementally (:class:`~zoneopt.desk.figures.ZoneSums`): a move changes the
per-school sums of two schools and the moved count by one unit's numbers, and only the two zones it
touches are flood-filled again; every figure is then a sum over the schools (100 numbers, not 2,000
units). Violations are the sentences of the independent checker
(:func:`zoneopt.check.check_plan`), run on the edited assignment when asked for.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..check import check_plan
from ..district import District, _home_owners
from ..errors import ZoneoptInputError
from ..plan import Plan
from ..scenario import Scenario
from .figures import ZoneSums

__all__ = ["Editor", "Move"]


@dataclass(frozen=True)
class Move:
    """One undoable step: the units it changed, their schools before and after (positions)."""

    kind: str  # "move" (by hand) or "reoptimize"
    units: np.ndarray
    old: np.ndarray
    new: np.ndarray


class Editor:
    """Edit a plan by hand and watch its figures and rule violations change.

    Parameters
    ----------
    plan
        The plan to start from (an optimised plan, or one made with ``Plan.from_assignment``).

    Examples
    --------
    >>> ed = Editor(plan)                        # doctest: +SKIP
    >>> ed.move("060670001011", "S03")           # doctest: +SKIP
    >>> ed.figures["dissimilarity_after"], ed.violations  # doctest: +SKIP
    >>> ed.reoptimize(time_limit=20)             # doctest: +SKIP
    >>> ed.plan.save("out/committee-option")     # doctest: +SKIP
    """

    def __init__(self, plan: Plan):
        if plan.positions is None:
            raise ValueError("this plan has no assignment to edit (status "
                             f"{plan.summary.get('status')!r})")
        self.district: District = plan.district
        self.scenario: Scenario = plan.scenario
        self.start_plan = plan
        self._sums = ZoneSums(self.district, self.scenario, plan.positions)
        self._history: list[Move] = []
        self._version = 0
        self._checked: tuple[int, list[str]] | None = None
        self._optimized: tuple[int, Plan] | None = None
        self._widget = None

    # ------------------------------------------------------------------------------ editing
    def move(self, unit_id: str, school_id: str) -> dict[str, Any]:
        """Move one unit to a school (an undoable step).

        Parameters
        ----------
        unit_id
            The unit's id (as in the units file).
        school_id
            The school it should attend.

        Returns
        -------
        dict
            :attr:`figures` after the move.

        Raises
        ------
        ZoneoptInputError
            For an unknown unit or school.
        """
        i = self._unit_position(unit_id)
        j = self._school_position(school_id)
        return self._move_positions(i, j)

    def _move_positions(self, i: int, j: int) -> dict[str, Any]:
        old = int(self._sums.pos[i])
        if old != j:
            step = Move("move", np.array([i]), np.array([old]), np.array([j]))
            self._sums.apply(step.units, step.new)
            self._history.append(step)
            self._changed()
        return self.figures

    def undo(self) -> bool:
        """Undo the last move (or the last re-optimisation); False when there is nothing to undo."""
        if not self._history:
            return False
        step = self._history.pop()
        self._sums.apply(step.units, step.old)
        self._changed()
        return True

    @property
    def history(self) -> list[Move]:
        """The undoable steps, oldest first."""
        return list(self._history)

    @property
    def edited_units(self) -> list[str]:
        """Unit ids moved by hand (and not undone): the units a re-optimisation keeps in place."""
        seen: dict[int, None] = {}
        for step in self._history:
            if step.kind == "move":
                for i in step.units.tolist():
                    seen[i] = None
        return [str(self.district.unit_ids[i]) for i in seen]

    @property
    def assignment(self) -> pd.Series:
        """``unit_id -> school_id`` of the edited plan."""
        return self.district.assignment_series(self._sums.pos)

    @property
    def positions(self) -> np.ndarray:
        """School position of each unit in the edited plan (a copy)."""
        return self._sums.pos.copy()

    # ------------------------------------------------------------------------------ figures
    @property
    def figures(self) -> dict[str, Any]:
        """The figures of summary.json for the edited plan, kept up to date move by move.

        Keys: ``objective``, ``dissimilarity_before``/``_after``, ``max_share_gap_before``/``_after``,
        ``students_moved``, ``moved_share``, ``mean_distance_km_before``/``_after``,
        ``max_utilization_after``, ``contiguous``, ``islands``, ``n_units``, ``n_schools`` and
        ``district_share``, with the meanings of CONTRACT.md.
        """
        return self._sums.figures

    @property
    def schools(self) -> pd.DataFrame:
        """Per school: name, capacity, enrollment, utilization, low-income share, mean km (edited)."""
        return self._sums.schools

    @property
    def violations(self) -> list[str]:
        """The checker's sentences for the edited plan, one per broken rule (empty: all hold)."""
        if self._checked is None or self._checked[0] != self._version:
            report = check_plan(self.district, self.scenario, self._sums.pos)
            self._checked = (self._version, list(report.violations))
        return list(self._checked[1])

    # ------------------------------------------------------------------------------ plans
    @property
    def plan(self) -> Plan:
        """The edited plan as a checked :class:`~zoneopt.plan.Plan`.

        Right after :meth:`reoptimize` (with no move since), the optimiser's plan, whose status and
        bound refer to the problem with the edits locked. Otherwise a plan with status ``given``
        and the checker's ``violations`` in its summary, as ``zoneopt evaluate`` writes.
        """
        if self._optimized is not None and self._optimized[0] == self._version:
            return self._optimized[1]
        plan = _evaluate(self.district, self.scenario, self._sums.pos)
        if plan is None:
            plan = Plan.from_assignment(self.district, self.scenario, self._sums.pos, status="given")
            plan.summary["violations"] = self.violations
        report = check_plan(self.district, self.scenario, plan.positions, summary=plan.summary)
        mismatched = [v for v in report.violations if v not in set(self.violations)]
        if mismatched:  # a figure the checker disagrees with: a bug, never the user's edit
            raise RuntimeError("the edited plan's figures fail their check:\n" + "\n".join(mismatched))
        return plan

    def locked_district(self) -> District:
        """The district with every hand-edited unit locked (``locked_school``) to its new school."""
        d = self.district
        units = d.units.copy()
        locked = units["locked_school"].astype(object).to_numpy(copy=True)
        for uid in self.edited_units:
            i = self._unit_position(uid)
            locked[i] = str(d.school_ids[self._sums.pos[i]])
        units["locked_school"] = pd.Series(locked, index=units.index, dtype=object)
        return dataclasses.replace(
            d, units=units, home_owner=_home_owners(d.home_unit, units, d.schools)
        )

    def reoptimize(self, time_limit: float = 30.0, **kwargs: Any) -> Plan:
        """Lock the hand-edited units and re-optimise the rest, starting from the edited plan.

        Parameters
        ----------
        time_limit
            Seconds for the search (as ``zoneopt.optimize``).
        **kwargs
            Passed on to :func:`zoneopt.optimize` (``solver``, ``progress``, ...).

        Returns
        -------
        zoneopt.plan.Plan
            The new plan (also :attr:`plan`); its units carry the locks. One :meth:`undo` returns
            to the edited plan.

        Raises
        ------
        zoneopt.InfeasibleError
            When no plan keeps the edits and meets the scenario (the diagnosis says why).
        """
        from ..solve import optimize

        district = self.locked_district()
        plan = optimize(district, self.scenario, time_limit=time_limit, start=self._sums.pos.copy(),
                        **kwargs)
        new = np.asarray(plan.positions, dtype=np.int64)
        changed = np.flatnonzero(new != self._sums.pos)
        step = Move("reoptimize", changed, self._sums.pos[changed].copy(), new[changed])
        self._sums.apply(step.units, step.new)
        self._history.append(step)
        self._changed(optimized=plan)
        return plan

    # ------------------------------------------------------------------------------ helpers
    def _unit_position(self, unit_id: Any) -> int:
        index = self._unit_index
        uid = str(unit_id)
        if uid not in index:
            raise ZoneoptInputError(f"no unit with unit_id '{uid}' in this district", row=uid,
                                    column="unit_id")
        return index[uid]

    @property
    def _unit_index(self) -> dict[str, int]:
        if not hasattr(self, "_uidx"):
            self._uidx = {str(u): i for i, u in enumerate(self.district.unit_ids)}
        return self._uidx

    def _school_position(self, school_id: Any) -> int:
        sid = str(school_id)
        if sid not in self.district.school_index:
            raise ZoneoptInputError(f"no school with school_id '{sid}' in this district", row=sid,
                                    column="school_id")
        return self.district.school_index[sid]

    def _changed(self, optimized: Plan | None = None) -> None:
        self._version += 1
        if optimized is not None:
            self._optimized = (self._version, optimized)
        if self._widget is not None:
            self._widget.refresh()

    # ------------------------------------------------------------------------------ widget
    @property
    def widget(self) -> Any:
        """The notebook widget (made on first use; needs ``anywidget``)."""
        if self._widget is None:
            from .widget import EditorWidget

            self._widget = EditorWidget(self)
        return self._widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        f = self.figures
        return (
            f"Editor({len(self._history)} step(s), D {f['dissimilarity_after']:.4f}, moved "
            f"{f['students_moved']}, {len(self.violations)} violation(s))"
        )


def _evaluate(district: District, scenario: Scenario, pos: np.ndarray) -> Plan | None:
    """The project's ``evaluate`` (status ``given`` plus violations) when this tree has one."""
    import zoneopt

    fn = getattr(zoneopt, "evaluate", None)
    if fn is not None and not callable(fn):
        fn = getattr(fn, "evaluate", None)
    if fn is None:
        return None
    try:
        plan = fn(district, scenario, district.assignment_series(pos))
    except TypeError:  # another signature than the one agreed: fall back to the checker
        return None
    return plan if isinstance(plan, Plan) and "violations" in plan.summary else None
