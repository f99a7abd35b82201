"""zoneopt: school attendance zones that balance socioeconomic mix, with honest optimisation.

Examples
--------
>>> import zoneopt  # doctest: +SKIP
>>> district = zoneopt.District.from_files("units.gpkg", "schools.csv")
>>> plan = zoneopt.optimize(district, zoneopt.Scenario.from_toml("scenario.toml"))
>>> plan.save("out/plan")
"""

from .check import check_plan
from .desk import Editor
from .district import District
from .errors import InfeasibleError, NoSolutionError, ZoneoptError, ZoneoptInputError
from .evaluate import evaluate  # noqa: E402,I001 - after Plan (it builds one)
from .plan import Plan
from .scenario import Scenario
from .solve import optimize

__version__ = "0.1.0"

__all__ = [
    "District",
    "Scenario",
    "Plan",
    "optimize",
    "evaluate",
    "check_plan",
    "Editor",
    "ZoneoptError",
    "ZoneoptInputError",
    "InfeasibleError",
    "NoSolutionError",
]
