"""Neighbourhoods: places that feel like one (subdivisions, apartment complexes, census places).

``[constraints] neighbourhoods`` names a vector file of polygons with a ``name``; polygons sharing a
name are one neighbourhood. Each unit belongs to the neighbourhood holding most (more than half) of its
area, or to none. A neighbourhood is *split* when its units go to more than one school;
``keep_neighbourhoods = true`` forbids that.

:func:`census_neighbourhoods` turns the Census's places or county subdivisions (TIGER/Line PLACE or
COUSUB files) into such a file, for ``zoneopt units --neighbourhoods``.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import io
from .district import District
from .errors import ZoneoptInputError
from .scenario import Scenario

#: A unit belongs to a neighbourhood holding more than this share of its area.
MAJORITY = 0.5


@dataclass(frozen=True, eq=False)
class Neighbourhoods:
    """Neighbourhood membership of a district's units.

    Attributes
    ----------
    names : list of str
        Neighbourhood names by position (those with at least one unit, in file order).
    member : numpy.ndarray
        Neighbourhood position of each unit, -1 for none.
    source : str
        The neighbourhoods file.
    """

    names: list[str]
    member: np.ndarray
    source: str

    def groups(self) -> list[np.ndarray]:
        """Unit positions of each neighbourhood (sorted)."""
        order = np.argsort(self.member, kind="stable")
        m = self.member[order]
        out = []
        for g in range(len(self.names)):
            a, b = np.searchsorted(m, g, "left"), np.searchsorted(m, g, "right")
            out.append(order[a:b])
        return out


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def load_neighbourhoods(district: District, scenario: Scenario) -> Neighbourhoods | None:
    """Membership of ``district``'s units in ``scenario.constraints.neighbourhoods`` (or None)."""
    path = scenario.constraints.neighbourhoods
    if not path:
        return None
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        mtime = -1.0
    per = _CACHE.setdefault(district, {})
    key = (str(path), mtime)
    if key not in per:
        per[key] = membership(district.units, read_neighbourhoods(path), source=str(path))
    return per[key]


def read_neighbourhoods(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read and validate a neighbourhoods file: polygons with a ``name`` and a CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per neighbourhood (polygons of one name dissolved), ``name`` and geometry.
    """
    frame = io.read_vector(path, what="neighbourhoods")
    if frame.crs is None:
        raise ZoneoptInputError("the neighbourhoods have no coordinate reference system (CRS); "
                                "set it (e.g. add the .prj file of a shapefile)", file=path)
    if "name" not in frame.columns:
        lower = {str(c).lower(): c for c in frame.columns}
        hint = next((f"; did you mean '{lower[c]}'? (rename it to 'name')" for c in
                     ("name", "namelsad", "neighbourhood", "neighborhood", "nbhd") if c in lower), "")
        raise ZoneoptInputError(
            f"the neighbourhoods need a 'name' column{hint} (columns found: "
            f"{', '.join(str(c) for c in frame.columns if c != frame.geometry.name)})",
            file=path, column="name",
        )
    geoms = frame.geometry.to_numpy()
    for r, (name, g) in enumerate(zip(frame["name"], geoms, strict=True)):
        label = f"row {r + 1}"
        if name is None or (isinstance(name, float) and np.isnan(name)) or not str(name).strip():
            raise ZoneoptInputError("the neighbourhood has no name; name it or drop the row",
                                    file=path, row=label, column="name")
        if g is None or g.is_empty:
            raise ZoneoptInputError(f"neighbourhood '{name}' has no geometry; draw it or drop the row",
                                    file=path, row=name, column="geometry")
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            raise ZoneoptInputError(
                f"neighbourhood '{name}' is a {g.geom_type}, not a polygon; neighbourhoods are areas",
                file=path, row=name, column="geometry")
    fixed = shapely.make_valid(geoms)
    out = gpd.GeoDataFrame({"name": frame["name"].astype(str).str.strip().to_numpy()},
                           geometry=fixed, crs=frame.crs)
    return out.dissolve(by="name", sort=False).reset_index()[["name", "geometry"]]


def membership(units: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame, *, source: str = "neighbourhoods"
               ) -> Neighbourhoods:
    """Each unit's neighbourhood: the one holding more than half of its area, else none (-1)."""
    local = hoods.to_crs(units.crs)
    ug = units.geometry.to_numpy()
    hg = local.geometry.to_numpy()
    tree = shapely.STRtree(hg)
    ui, hi = tree.query(ug, predicate="intersects")
    area = shapely.area(shapely.intersection(ug[ui], hg[hi])) if len(ui) else np.zeros(0)
    uarea = shapely.area(ug)
    best = np.full(len(ug), -1, dtype=np.int64)
    best_share = np.zeros(len(ug))
    for u, h, a in zip(ui.tolist(), hi.tolist(), area.tolist(), strict=True):
        share = a / uarea[u] if uarea[u] > 0 else 0.0
        if share > best_share[u] + 1e-12:
            best[u], best_share[u] = h, share
    best[best_share <= MAJORITY] = -1
    used = sorted(set(best[best >= 0].tolist()))
    remap = {h: g for g, h in enumerate(used)}
    member = np.array([remap.get(int(h), -1) for h in best], dtype=np.int64)
    member.setflags(write=False)
    return Neighbourhoods([str(local["name"].iloc[h]) for h in used], member, source)


def split_neighbourhoods(assign: np.ndarray, member: np.ndarray) -> list[int]:
    """Neighbourhoods (positions) whose units go to more than one school."""
    seen: dict[int, set[int]] = {}
    for g, j in zip(member.tolist(), np.asarray(assign).tolist(), strict=True):
        if g >= 0:
            seen.setdefault(g, set()).add(j)
    return sorted(g for g, js in seen.items() if len(js) > 1)


def neighbourhood_figures(district: District, scenario: Scenario, positions: np.ndarray
                          ) -> dict[str, Any]:
    """``split_neighbourhoods_before``/``_after`` and the names split by the plan (when given)."""
    hoods = load_neighbourhoods(district, scenario)
    if hoods is None:
        return {}
    before = split_neighbourhoods(district.status_quo, hoods.member)
    after = split_neighbourhoods(positions, hoods.member)
    return {
        "split_neighbourhoods_before": len(before),
        "split_neighbourhoods_after": len(after),
        "split_neighbourhood_names": [hoods.names[g] for g in after],
        "n_neighbourhoods": len(hoods.names),
    }


def neighbourhood_table(district: District, scenario: Scenario, positions: np.ndarray) -> pd.DataFrame:
    """Per neighbourhood: units, students, and the schools of its units today and in the plan."""
    hoods = load_neighbourhoods(district, scenario)
    rows = []
    ids = district.school_ids
    for g, units in enumerate(hoods.groups()):
        today = sorted({str(ids[j]) for j in district.status_quo[units]})
        plan = sorted({str(ids[j]) for j in np.asarray(positions)[units]})
        rows.append({"name": hoods.names[g], "units": len(units),
                     "students": int(district.students[units].sum()),
                     "schools_today": ", ".join(today), "schools_proposed": ", ".join(plan),
                     "split_today": len(today) > 1, "split_proposed": len(plan) > 1})
    return pd.DataFrame(rows, columns=["name", "units", "students", "schools_today",
                                       "schools_proposed", "split_today", "split_proposed"])


# ------------------------------------------------------------------------------ census places

#: Columns of TIGER/Line PLACE and COUSUB files used for the name, in order of preference.
_TIGER_NAME_COLUMNS = ("NAMELSAD", "NAME", "NAMELSAD20", "NAME20", "NAMELSAD10", "NAME10")


def census_neighbourhoods(path: str | os.PathLike, *, clip_to: gpd.GeoDataFrame | None = None
                          ) -> gpd.GeoDataFrame:
    """Neighbourhoods from a TIGER/Line PLACE or COUSUB file (zip, shp or gpkg), or any polygons.

    The name is ``NAMELSAD`` (e.g. "Carmichael CDP", "Folsom city") where the file has it, else
    ``NAME`` or an existing ``name``. With ``clip_to`` (the units), only the polygons touching the
    units are kept.

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, ``geoid`` (when the file has ``GEOID``) and geometry, in the file's CRS.
    """
    frame = io.read_vector(path, what="neighbourhoods")
    if frame.crs is None:
        raise ZoneoptInputError("the neighbourhoods file has no CRS (.prj missing?)", file=path)
    col = next((c for c in _TIGER_NAME_COLUMNS if c in frame.columns), None)
    if col is None and "name" in frame.columns:
        col = "name"
    if col is None:
        raise ZoneoptInputError(
            "no name column: a TIGER/Line PLACE or COUSUB file has NAMELSAD and NAME; other "
            "polygons need a 'name' column", file=path, column="name")
    out = gpd.GeoDataFrame({"name": frame[col].astype(str).to_numpy()},
                           geometry=frame.geometry.to_numpy(), crs=frame.crs)
    for gcol in ("GEOID", "GEOID20", "GEOID10"):
        if gcol in frame.columns:
            out.insert(1, "geoid", frame[gcol].astype(str).to_numpy())
            break
    if clip_to is not None and len(out):
        area = clip_to.to_crs(out.crs).geometry.union_all()
        out = out[out.geometry.intersects(area)].reset_index(drop=True)
    return out


def units_with_neighbourhoods(units: gpd.GeoDataFrame, places: str | os.PathLike,
                              units_out: str | os.PathLike) -> gpd.GeoDataFrame:
    """For ``zoneopt units --neighbourhoods``: write the places touching the units as a
    neighbourhoods file next to ``units_out`` (``<stem>_neighbourhoods.gpkg``) and return a copy of
    the units with a ``neighbourhood`` column (the place holding most of each unit's area, or empty).
    """
    hoods = census_neighbourhoods(places, clip_to=units)
    target = Path(units_out).with_name(Path(units_out).stem + "_neighbourhoods.gpkg")
    write_neighbourhoods(hoods, target)
    local = units.to_crs(units.estimate_utm_crs())
    member = membership(local, read_neighbourhoods(target), source=str(target))
    out = units.copy()
    out["neighbourhood"] = [member.names[g] if g >= 0 else None for g in member.member]
    print(f"wrote {len(hoods)} neighbourhoods to {target}; "
          f"{int((member.member >= 0).sum())} of {len(units)} units lie mostly in one")
    return out


def write_neighbourhoods(hoods: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write a neighbourhoods file atomically (GeoPackage or GeoJSON by suffix)."""
    driver = "GeoJSON" if str(path).lower().endswith((".geojson", ".json")) else "GPKG"
    return io.write_vector(path, hoods, driver=driver)


__all__ = [
    "Neighbourhoods", "load_neighbourhoods", "read_neighbourhoods", "membership",
    "split_neighbourhoods", "neighbourhood_figures", "neighbourhood_table",
    "census_neighbourhoods", "write_neighbourhoods", "units_with_neighbourhoods",
]
