"""The checker shares no code with the model, the search, the metrics or Plan, and reads none of
District's derived arrays: checked on its source, and by running it on a District whose derived
arrays are wrong."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from districts import grid_frames

import zoneopt.check
from zoneopt import District, Plan, Scenario, check_plan

CHECK_DIR = Path(zoneopt.check.__file__).parent
FORBIDDEN_MODULES = ("zoneopt.model", "zoneopt.solve", "zoneopt.metrics", "zoneopt.plan")
DERIVED = {"dist_km", "adjacency", "home_unit", "home_owner", "islands", "status_quo", "nearest",
           "nearest_km", "neighbors", "component", "hops", "locked"}


def _absolute(module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    base = ["zoneopt", "check"][: 2 - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def test_no_module_of_the_checker_imports_the_model_search_metrics_or_plan():
    offenders = []
    for path in sorted(CHECK_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node.module, node.level)
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_MODULES):
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
    assert not offenders, offenders


def test_no_module_of_the_checker_reads_a_derived_array_of_district():
    offenders = []
    for path in sorted(CHECK_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in DERIVED and isinstance(
                    node.value, ast.Name) and node.value.id == "district":
                offenders.append(f"{path.name}:{node.lineno} reads district.{node.attr}")
    assert not offenders, offenders


def test_the_checker_gives_the_same_answer_when_districts_derived_arrays_are_wrong():
    units, schools = grid_frames(4, 5, [0, 19], seed=3)
    good = District.from_frames(units, schools)
    n, m = good.n_units, good.n_schools
    broken = dataclasses.replace(
        good,
        dist_km=np.full((n, m), 99.0),
        adjacency=sp.csr_matrix((n, n), dtype=np.int8),
        home_unit=np.zeros(m, dtype=np.int64),
        home_owner=np.zeros(m, dtype=np.int64),
    )
    plan = Plan.from_assignment(good, Scenario(), good.status_quo)
    a = check_plan(good, Scenario(), plan.positions, summary=plan.summary)
    b = check_plan(broken, Scenario(), plan.positions, summary=plan.summary)
    assert a.ok, a.violations
    assert b.ok, b.violations
    assert a.figures == b.figures
