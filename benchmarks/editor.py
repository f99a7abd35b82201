"""Speed of the what-if editor (issue 15): one move's figures and violations at 2,000 units.

    python -m benchmarks.editor

The baseline, measured in the same run, is what the editor avoids: a full ``Plan.from_assignment``
(every figure recomputed) after each move. The issue's target is 200 ms per update.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from zoneopt import District, Editor, Plan, Scenario
from zoneopt.synthetic import synthetic_district


def _moves(district: District, positions: np.ndarray, rng: np.random.Generator, k: int) -> list:
    """k moves of a unit into a neighbouring zone (never a school's home unit)."""
    homes = set(district.home_unit.tolist())
    pos = positions.copy()
    out: list[tuple[int, int]] = []
    while len(out) < k:
        i = int(rng.integers(district.n_units))
        other = [int(pos[v]) for v in district.neighbors[i] if pos[v] != pos[i]]
        if i in homes or not other:
            continue
        j = other[int(rng.integers(len(other)))]
        out.append((i, j))
        pos[i] = j
    return out


def main(argv: list[str] | None = None) -> int:
    n = int((argv or sys.argv[1:] or ["200"])[0])
    units, schools = synthetic_district(2000, 100)
    district = District.from_frames(units, schools)
    plan = Plan.from_assignment(district, Scenario(), district.status_quo)
    editor = Editor(plan)
    moves = _moves(district, plan.positions, np.random.default_rng(1), n)
    update, full = [], []
    for i, j in moves:
        t0 = time.perf_counter()
        editor.move(district.unit_ids[i], district.school_ids[j])
        _ = editor.figures, editor.violations
        update.append(time.perf_counter() - t0)
    pos = plan.positions.copy()
    for i, j in moves[: max(1, n // 10)]:
        pos[i] = j
        t0 = time.perf_counter()
        Plan.from_assignment(district, Scenario(), pos)
        full.append(time.perf_counter() - t0)
    med, worst, base = np.median(update), np.max(update), np.median(full)
    print(f"editor update (move + figures + violations), {n} moves at 2,000 units: median "
          f"{1000 * med:.1f} ms, slowest {1000 * worst:.1f} ms (target 200 ms)")
    print(f"baseline, full Plan.from_assignment per move: median {1000 * base:.1f} ms; "
          f"ratio update / full {med / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
