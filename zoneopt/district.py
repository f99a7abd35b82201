"""The district: validated units and schools in the local UTM CRS, with distances and adjacency.

This module is the one place where CONTRACT.md's geometric definitions live: distance, nearest school,
status quo, adjacency (rook, shared boundary >= 1 cm), home unit and islands. The model, the search and
the checker all read them from a :class:`District`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, shortest_path

from . import io, settings
from .columns import apply_columns
from .errors import ZoneoptInputError
from .validate import (
    Problems,
    check_references,
    school_outside_error,
    validate_schools,
    validate_units,
)


@dataclass(frozen=True, eq=False)
class District:
    """Units and schools of one district, ready to optimise.

    Build it with :meth:`from_files` or :meth:`from_frames`; the arrays are indexed by unit position
    (``0..n_units-1``) and school position (``0..n_schools-1``) in the order of the input files.

    Attributes
    ----------
    units : geopandas.GeoDataFrame
        Validated copy of the units in the local UTM CRS (``unit_id``, ``students``, ``low_income``,
        ``current_school``, ``locked_school``, geometry, plus any extra input columns).
    schools : geopandas.GeoDataFrame
        Validated copy of the schools in the same CRS (``school_id``, ``name``, ``capacity``, geometry).
    dist_km : numpy.ndarray
        ``(n_units, n_schools)`` distances in km; ``inf`` where a travel matrix omits the pair.
    adjacency : scipy.sparse.csr_matrix
        Symmetric rook adjacency of the units (shared boundary at least 1 cm).
    home_unit : numpy.ndarray
        For each school, the position of the unit containing it.
    home_owner : numpy.ndarray
        For each school, the school that its home unit is assigned to (itself, unless several schools
        fall in one unit).
    """

    units: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    dist_km: np.ndarray
    adjacency: sp.csr_matrix
    home_unit: np.ndarray
    home_owner: np.ndarray
    distance_source: str = "straight line between unit centroid and school (UTM, km)"
    sources: dict[str, str] = field(default_factory=dict)
    barriers: gpd.GeoDataFrame | None = None
    barrier_pairs: tuple[tuple[int, int], ...] = ()
    #: The travel matrix as given (unit_id, school_id, distance_km), kept so that the checker can
    #: re-derive distances from the input itself when no file holds it.
    travel_matrix: pd.DataFrame | None = None

    # ------------------------------------------------------------------------------ constructors
    @classmethod
    def from_files(
        cls,
        units: str | os.PathLike,
        schools: str | os.PathLike,
        *,
        travel_matrix: str | os.PathLike | None = None,
        columns: Any = None,
        require_low_income: bool = True,
        barriers: str | os.PathLike | None = None,
    ) -> District:
        """Read and validate a district from the contract's input files.

        Parameters
        ----------
        units
            Vector file of unit polygons (``unit_id``, ``students``, ``low_income``, ...).
        schools
            CSV with ``lon``/``lat`` or a vector file of points (``school_id``, ``capacity``, ``name``).
        travel_matrix
            Optional CSV ``unit_id,school_id,distance_km``; pairs missing from it are not allowed.
        columns
            The files' own column names: a :class:`~zoneopt.scenario.Columns` (the scenario's
            ``[columns]``), or a dict of its keys such as ``{"unit_id": "PBID", "students":
            "K5LiveAtt", "school_id": "NAME", "schools_where": "TYPE == 'ES'"}``.
        require_low_income
            False when the scenario balances nothing (``balance = "none"``): the units may then
            lack a low-income column (every unit counts 0).
        barriers
            Optional lines file ([travel] barriers): neighbours whose shared boundary runs along a
            barrier are not neighbours (:mod:`zoneopt.travel.barriers`).

        Returns
        -------
        District

        Examples
        --------
        >>> from zoneopt import District
        >>> d = District.from_files("data/sacramento/units.gpkg", "data/sacramento/schools.csv")
        ... # doctest: +SKIP
        """
        units_frame = io.read_units(units)
        schools_frame = io.read_schools(schools)
        matrix = io.read_travel_matrix(travel_matrix) if travel_matrix else None
        lines = None
        if barriers:
            from .travel.barriers import read_barriers

            lines = read_barriers(barriers)
        return cls.from_frames(
            units_frame,
            schools_frame,
            travel_matrix=matrix,
            columns=columns,
            require_low_income=require_low_income,
            barriers=lines,
            sources={
                "units": str(units),
                "schools": str(schools),
                **({"travel_matrix": str(travel_matrix)} if travel_matrix else {}),
                **({"barriers": str(barriers)} if barriers else {}),
            },
        )

    @classmethod
    def from_frames(
        cls,
        units: gpd.GeoDataFrame,
        schools: gpd.GeoDataFrame | pd.DataFrame,
        *,
        travel_matrix: pd.DataFrame | None = None,
        barriers: gpd.GeoDataFrame | None = None,
        sources: dict[str, str] | None = None,
        columns: Any = None,
        require_low_income: bool = True,
    ) -> District:
        """Build a district from frames; the frames passed in are never modified.

        Parameters
        ----------
        units
            GeoDataFrame of polygons with a CRS and the contract's columns.
        schools
            GeoDataFrame of points, or a DataFrame with ``lon``/``lat`` columns in WGS84.
        travel_matrix
            Optional frame ``unit_id, school_id, distance_km``.
        barriers
            Optional barrier lines (any CRS): see :mod:`zoneopt.travel.barriers`.
        sources
            Labels of where the frames came from, used in error messages.
        columns, require_low_income
            As in :meth:`from_files`.

        Returns
        -------
        District
        """
        sources = dict(sources or {})
        usrc = sources.get("units", "units")
        ssrc = sources.get("schools", "schools")
        if not isinstance(schools, gpd.GeoDataFrame) and isinstance(schools, pd.DataFrame):
            if {"lon", "lat"} <= set(schools.columns):
                schools = gpd.GeoDataFrame(
                    schools.drop(columns=["lon", "lat"]),
                    geometry=gpd.points_from_xy(schools["lon"], schools["lat"]),
                    crs="EPSG:4326",
                )
        if columns is not None:
            units, schools = apply_columns(units, schools, columns, units_source=usrc,
                                           schools_source=ssrc,
                                           require_low_income=require_low_income)
            # Mapped id columns (PBID, NAME) become text as the contract's names are on reading.
            units, schools = io._as_text_ids(units), io._as_text_ids(schools)
        units_v, schools_v = _validated(units, schools, usrc, ssrc, require_low_income)

        utm = units_v.estimate_utm_crs()
        units_p = units_v.to_crs(utm)
        schools_p = schools_v.to_crs(utm)
        _check_projected_geometry(units_p, usrc)

        home_unit = _home_units(units_p, schools_p, ssrc)
        home_owner = _home_owners(home_unit, units_p, schools_p)
        adjacency = rook_adjacency(units_p.geometry.to_numpy())
        barriers_p, cut = None, ()
        if barriers is not None:
            from .travel.barriers import blocked_by_barriers, without_pairs

            barriers_p = barriers.to_crs(utm)
            cut = tuple(blocked_by_barriers(units_p.geometry.to_numpy(), adjacency,
                                            barriers_p.geometry.to_numpy()))
            adjacency = without_pairs(adjacency, list(cut))

        if travel_matrix is None:
            dist = centroid_distances_km(units_p, schools_p)
            dsource = "straight line between unit centroid and school (UTM, km)"
        else:
            dist = _matrix_distances(
                travel_matrix, units_p, schools_p, sources.get("travel_matrix", "travel matrix")
            )
            dsource = f"travel matrix {sources.get('travel_matrix', '')}".strip()
        dist.setflags(write=False)
        return cls(
            units=units_p,
            schools=schools_p,
            dist_km=dist,
            adjacency=adjacency,
            home_unit=home_unit,
            home_owner=home_owner,
            distance_source=dsource,
            sources=sources,
            barriers=barriers_p,
            barrier_pairs=cut,
            travel_matrix=None if travel_matrix is None else travel_matrix.copy(),
        )

    # ------------------------------------------------------------------------------ simple views
    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.units)

    @property
    def n_schools(self) -> int:
        """Number of schools."""
        return len(self.schools)

    @property
    def distance_source_name(self) -> str:
        """summary.json's ``distance_source``: ``straight_line`` or the travel matrix's file name."""
        if not self.sources.get("travel_matrix") and not self.distance_source.startswith("travel"):
            return "straight_line"
        return Path(self.sources.get("travel_matrix", "travel matrix")).name

    @property
    def crs(self) -> Any:
        """The local UTM CRS every geometry of the district is in."""
        return self.units.crs

    @cached_property
    def unit_ids(self) -> np.ndarray:
        """Unit ids (text) by position."""
        return self.units["unit_id"].to_numpy(dtype=object)

    @cached_property
    def school_ids(self) -> np.ndarray:
        """School ids (text) by position."""
        return self.schools["school_id"].to_numpy(dtype=object)

    @cached_property
    def students(self) -> np.ndarray:
        """Students per unit (int64)."""
        return self.units["students"].to_numpy(dtype=np.int64)

    @cached_property
    def low_income(self) -> np.ndarray:
        """Low-income students per unit (int64)."""
        return self.units["low_income"].to_numpy(dtype=np.int64)

    @cached_property
    def capacity(self) -> np.ndarray:
        """Capacity per school (int64)."""
        return self.schools["capacity"].to_numpy(dtype=np.int64)

    @cached_property
    def school_index(self) -> dict[str, int]:
        """school_id -> position."""
        return {sid: j for j, sid in enumerate(self.school_ids)}

    @cached_property
    def nearest(self) -> np.ndarray:
        """Position of each unit's nearest school (-1 when no school is reachable)."""
        d = self.dist_km
        idx = np.argmin(np.where(np.isfinite(d), d, np.inf), axis=1)
        idx[~np.isfinite(d).any(axis=1)] = -1
        return idx

    @cached_property
    def nearest_km(self) -> np.ndarray:
        """Distance from each unit to its nearest school (inf when none is reachable)."""
        return np.min(self.dist_km, axis=1)

    @cached_property
    def status_quo(self) -> np.ndarray:
        """Today's school of each unit: ``current_school`` where given, else the nearest school."""
        current = self.units["current_school"].to_numpy(dtype=object)
        sq = self.nearest.copy()
        for i, sid in enumerate(current):
            if sid is not None:
                sq[i] = self.school_index[sid]
        return sq

    @cached_property
    def locked(self) -> np.ndarray:
        """Position of each unit's locked school, -1 where not locked."""
        out = np.full(self.n_units, -1, dtype=np.int64)
        for i, sid in enumerate(self.units["locked_school"].to_numpy(dtype=object)):
            if sid is not None:
                out[i] = self.school_index[sid]
        return out

    @cached_property
    def neighbors(self) -> list[np.ndarray]:
        """Neighbour positions of each unit (sorted)."""
        a = self.adjacency
        return [a.indices[a.indptr[i] : a.indptr[i + 1]] for i in range(self.n_units)]

    @cached_property
    def component(self) -> np.ndarray:
        """Connected-component label of each unit in the adjacency graph."""
        _, labels = connected_components(self.adjacency, directed=False)
        return labels

    @cached_property
    def islands(self) -> np.ndarray:
        """Boolean mask of units in a part of the adjacency graph that holds no school."""
        with_school = np.unique(self.component[self.home_unit])
        return ~np.isin(self.component, with_school)

    @cached_property
    def hops(self) -> np.ndarray:
        """``(n_schools, n_units)`` hop distance from each school's home unit (inf if unreachable)."""
        roots = np.unique(self.home_unit)
        d = shortest_path(self.adjacency, directed=False, unweighted=True, indices=roots)
        pos = {r: k for k, r in enumerate(roots)}
        return d[[pos[h] for h in self.home_unit]]

    def to_graph(self) -> Any:
        """The adjacency as a networkx graph with unit attributes (GerryChain-style).

        Returns
        -------
        networkx.Graph
            Nodes are unit positions with ``unit_id``, ``students``, ``low_income`` attributes.
        """
        import networkx as nx

        g = nx.from_scipy_sparse_array(self.adjacency)
        for i in range(self.n_units):
            g.nodes[i].update(
                unit_id=self.unit_ids[i],
                students=int(self.students[i]),
                low_income=int(self.low_income[i]),
            )
        return g

    def assignment_positions(self, assignment: pd.Series | dict | np.ndarray) -> np.ndarray:
        """Convert ``unit_id -> school_id`` (Series or dict) into school positions by unit position.

        Raises
        ------
        ZoneoptInputError
            When a unit is missing or a school id is unknown.
        """
        if isinstance(assignment, np.ndarray):
            return assignment.astype(np.int64)
        mapping = dict(assignment)
        out = np.empty(self.n_units, dtype=np.int64)
        for i, uid in enumerate(self.unit_ids):
            if uid not in mapping:
                raise ZoneoptInputError(f"the assignment has no school for unit '{uid}'", row=uid)
            sid = str(mapping[uid])
            if sid not in self.school_index:
                raise ZoneoptInputError(
                    f"unit '{uid}' is assigned to unknown school '{sid}'", row=uid, column="school_id"
                )
            out[i] = self.school_index[sid]
        return out

    def assignment_series(self, positions: np.ndarray) -> pd.Series:
        """Convert school positions by unit position into a ``unit_id -> school_id`` Series."""
        return pd.Series(
            self.school_ids[np.asarray(positions, dtype=np.int64)],
            index=pd.Index(self.unit_ids, name="unit_id"),
            name="school_id",
            dtype=object,
        )

    def __repr__(self) -> str:
        return (
            f"District({self.n_units} units, {self.n_schools} schools, "
            f"{int(self.students.sum())} students, {int(self.low_income.sum())} low-income, "
            f"{int(self.islands.sum())} island units)"
        )


# ---------------------------------------------------------------------------------- definitions


def zone_adjacency(district: District, assign: np.ndarray) -> list[set[int]]:
    """Schools whose zones share a boundary, per school (units without a school, -1, are skipped).

    Parameters
    ----------
    district
        The district (its unit adjacency).
    assign
        School position of each unit.

    Returns
    -------
    list of set of int
        For each school position, the positions of the schools whose zones touch its zone.
    """
    a = district.adjacency.tocoo()
    za, zb = assign[a.row], assign[a.col]
    keep = (za != zb) & (za >= 0) & (zb >= 0)
    out: list[set[int]] = [set() for _ in range(district.n_schools)]
    for x, y in zip(za[keep].tolist(), zb[keep].tolist(), strict=True):
        out[x].add(y)
    return out


def rook_adjacency(geoms: np.ndarray, min_shared_m: float | None = None) -> sp.csr_matrix:
    """Rook adjacency: units sharing a boundary of at least ``min_shared_m`` metres.

    Parameters
    ----------
    geoms
        Polygons in a projected CRS (metres).
    min_shared_m
        Shortest shared boundary that makes two units neighbours; corners (length 0) never do.
        Default: ``zoneopt.settings.MIN_SHARED_BOUNDARY_M``, read at call time.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric 0/1 matrix.
    """
    if min_shared_m is None:
        min_shared_m = settings.MIN_SHARED_BOUNDARY_M
    n = len(geoms)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left):
        # The part of one boundary lying on the other polygon: the shared edge for touching
        # polygons, and still a length for slightly overlapping ones (digitising slivers).
        shared = shapely.length(shapely.intersection(geoms[left], shapely.boundary(geoms[right])))
        ok = shared >= min_shared_m
        left, right = left[ok], right[ok]
    data = np.ones(2 * len(left), dtype=np.int8)
    adj = sp.csr_matrix(
        (data, (np.concatenate([left, right]), np.concatenate([right, left]))), shape=(n, n)
    )
    adj.sort_indices()
    return adj


def centroid_distances_km(units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame) -> np.ndarray:
    """Straight-line km between each unit's centroid and each school, both in a projected CRS."""
    c = shapely.get_coordinates(shapely.centroid(units.geometry.to_numpy()))
    s = shapely.get_coordinates(schools.geometry.to_numpy())
    diff = c[:, None, :] - s[None, :, :]
    return np.sqrt((diff**2).sum(axis=2)) / 1000.0


def _validated(
    units: Any, schools: Any, usrc: str, ssrc: str, require_low_income: bool
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Both files validated, with every problem of both (and of their references) in one error."""
    problems = Problems()
    units_v = schools_v = None
    try:
        units_v = validate_units(units, source=usrc, require_low_income=require_low_income)
    except ZoneoptInputError as exc:
        problems.extend(exc)
    try:
        schools_v = validate_schools(schools, source=ssrc)
    except ZoneoptInputError as exc:
        problems.extend(exc)
    if units_v is not None and schools_v is not None:
        try:
            check_references(units_v, list(schools_v["school_id"]), source=usrc)
        except ZoneoptInputError as exc:
            problems.extend(exc)
    problems.raise_if_any()
    return units_v, schools_v


def _check_projected_geometry(units: gpd.GeoDataFrame, source: str) -> None:
    area = shapely.area(units.geometry.to_numpy())
    if not np.all(np.isfinite(area)):
        raise ZoneoptInputError(
            "some unit coordinates could not be projected; is the CRS right?", file=source
        )


def _home_units(units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, source: str) -> np.ndarray:
    tree = shapely.STRtree(units.geometry.to_numpy())
    pts = schools.geometry.to_numpy()
    school_idx, unit_idx = tree.query(pts, predicate="intersects")
    home = np.full(len(schools), -1, dtype=np.int64)
    # A point on a shared boundary touches two units: the lowest unit position wins, deterministically.
    for j, i in sorted(zip(school_idx.tolist(), unit_idx.tolist(), strict=True), reverse=True):
        home[j] = i
    problems = Problems()
    for j in np.flatnonzero(home < 0):
        problems.extend(school_outside_error(units, schools, int(j), source=source))
    problems.raise_if_any()
    return home


def _home_owners(
    home: np.ndarray, units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame
) -> np.ndarray:
    """Which school a shared home unit goes to: its locked school if among them, else the first."""
    owner = np.arange(len(home))
    locked = units["locked_school"].to_numpy(dtype=object)
    ids = schools["school_id"].to_numpy(dtype=object)
    for i in np.unique(home):
        sharing = np.flatnonzero(home == i)
        if len(sharing) < 2:
            continue
        chosen = sharing[0]
        for j in sharing:
            if locked[i] is not None and ids[j] == locked[i]:
                chosen = j
        owner[sharing] = chosen
    return owner


def _matrix_distances(
    matrix: pd.DataFrame, units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, source: str
) -> np.ndarray:
    uidx = {u: i for i, u in enumerate(units["unit_id"])}
    sidx = {s: j for j, s in enumerate(schools["school_id"])}
    dist = np.full((len(units), len(schools)), np.inf)
    for u, s, d in zip(matrix["unit_id"], matrix["school_id"], matrix["distance_km"], strict=True):
        if u not in uidx:
            raise ZoneoptInputError(
                f"unit_id '{u}' of the travel matrix is not a unit; fix or drop the row",
                file=source, row=u, column="unit_id",
            )
        if s not in sidx:
            raise ZoneoptInputError(
                f"school_id '{s}' of the travel matrix is not a school; fix or drop the row",
                file=source, row=s, column="school_id",
            )
        dist[uidx[u], sidx[s]] = float(d)
    return dist


def district_for(
    units: str | os.PathLike, schools: str | os.PathLike, scenario: Any
) -> District:
    """The district of the files as a scenario reads them: its travel matrix and ``[columns]``.

    Parameters
    ----------
    units, schools
        The planner's files.
    scenario
        A :class:`~zoneopt.scenario.Scenario`: ``[travel] matrix``, ``[columns]`` (the files'
        own column names, ``schools_where``), and ``objective.balance`` (with ``"none"`` the
        units may lack a low-income column).

    Returns
    -------
    District
    """
    return District.from_files(
        units,
        schools,
        travel_matrix=scenario.travel.matrix or None,
        barriers=scenario.travel.barriers or None,
        columns=scenario.columns,
        require_low_income=scenario.objective.balance != "none",
    )


def load_district(
    units: str | os.PathLike, schools: str | os.PathLike, travel_matrix: str | os.PathLike | None = None
) -> District:
    """Shorthand for :meth:`District.from_files`."""
    return District.from_files(units, schools, travel_matrix=travel_matrix)


__all__ = ["District", "rook_adjacency", "zone_adjacency", "centroid_distances_km", "load_district", "Path"]
