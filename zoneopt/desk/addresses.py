"""Addresses (``[report] addresses``): reading, normalising, locating, and the registrar's table.

An address file is a CSV ``address,lon,lat`` (WGS84), e.g. a county's address points. Each address
is located once, here, on the exact unit polygons (the same point-in-polygon as everywhere in
zoneopt: the unit whose polygon contains the point), so addresses.csv and public.html always agree.
Address points often sit a few metres from a block-group boundary (boundaries run along street
centrelines), closer than the simplification of the map's outlines, so the page does not guess
from its simplified polygons; it carries each address's unit.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zoneopt.viz.map_geometry import zigzag_encode

from ..errors import ZoneoptInputError

__all__ = [
    "read_addresses",
    "normalize_address",
    "locate_addresses",
    "addresses_table",
    "encode_address_index",
    "synthetic_addresses",
    "ABBREVIATIONS",
]

#: Words written the same way after normalisation (USPS Publication 28 suffixes, directions and
#: unit designators), so "12 North Main Street" finds "12 N Main St".
ABBREVIATIONS = {
    "STREET": "ST", "STR": "ST", "AVENUE": "AVE", "AV": "AVE", "AVN": "AVE", "ROAD": "RD",
    "DRIVE": "DR", "DRV": "DR", "BOULEVARD": "BLVD", "BOUL": "BLVD", "LANE": "LN", "COURT": "CT",
    "PLACE": "PL", "TERRACE": "TER", "CIRCLE": "CIR", "PARKWAY": "PKWY", "HIGHWAY": "HWY",
    "SQUARE": "SQ", "TRAIL": "TRL", "CRESCENT": "CRES", "ALLEY": "ALY", "EXPRESSWAY": "EXPY",
    "FREEWAY": "FWY", "POINT": "PT", "LOOP": "LOOP", "WAY": "WAY", "PLAZA": "PLZ",
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "NORTHEAST": "NE", "NORTHWEST": "NW",
    "SOUTHEAST": "SE", "SOUTHWEST": "SW", "APARTMENT": "APT", "UNIT": "APT", "#": "APT",
    "SUITE": "STE",
}

_PUNCT = re.compile(r"[^\w\s#]", flags=re.UNICODE)
_DIGITS = re.compile(r"\d*")
_HOUSE = re.compile(r"^\s*(\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?)\s+(\S.*)$", flags=re.DOTALL)


def normalize_address(text: str) -> str:
    """The search key of an address: upper case, no punctuation, standard abbreviations.

    The page's JavaScript applies the same rules (tested against this function).

    Examples
    --------
    >>> normalize_address("12 North Main Street, Apt. 4")
    '12 N MAIN ST APT 4'
    >>> normalize_address("12 n. main st #4") == normalize_address("12 N Main St Unit 4")
    True
    """
    text = str(text).upper().replace("#", " # ")
    text = _PUNCT.sub(" ", text).replace("_", " ")
    return " ".join(ABBREVIATIONS.get(w, w) for w in text.split())


def read_addresses(path: str | os.PathLike) -> pd.DataFrame:
    """Read an address CSV ``address,lon,lat`` (WGS84 degrees).

    Raises
    ------
    ZoneoptInputError
        Naming the file, the line and the column of a missing column, an empty address or a
        coordinate that is not a number in range.
    """
    path = Path(path)
    if not path.exists():
        raise ZoneoptInputError("the addresses file ([report] addresses) does not exist", file=path)
    try:
        table = pd.read_csv(path, dtype={"address": str}, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ZoneoptInputError(f"cannot read the addresses CSV: {exc}", file=path) from None
    for col in ("address", "lon", "lat"):
        if col not in table.columns:
            raise ZoneoptInputError(
                f"the addresses file has no column '{col}'; it needs address,lon,lat (WGS84)",
                file=path, column=col,
            )
    out = pd.DataFrame({"address": table["address"].astype(str).str.strip()})
    for col, limit in (("lon", 180.0), ("lat", 90.0)):
        values = pd.to_numeric(table[col], errors="coerce")
        bad = values.isna() | (values.abs() > limit)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ZoneoptInputError(
                f"{col} '{table[col].iat[row]}' is not a number between -{limit:g} and {limit:g}; "
                "give WGS84 degrees", file=path, row=f"line {row + 2}", column=col,
            )
        out[col] = values.astype(float)
    empty = out["address"] == ""
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        raise ZoneoptInputError("empty address; fill it in or drop the row", file=path,
                                row=f"line {row + 2}", column="address")
    return out


def locate_addresses(district, addresses: pd.DataFrame) -> np.ndarray:
    """Position of the unit containing each address point (-1 outside every unit).

    A point on a boundary shared by two units goes to the lower unit position, as a school's home
    unit does.
    """
    pts = gpd.GeoSeries(gpd.points_from_xy(addresses["lon"], addresses["lat"]), crs="EPSG:4326")
    pts = pts.to_crs(district.crs).values
    tree = shapely.STRtree(district.units.geometry.values)
    a_idx, u_idx = tree.query(pts, predicate="intersects")
    none = np.iinfo(np.int64).max
    unit = np.full(len(addresses), none, dtype=np.int64)
    np.minimum.at(unit, a_idx, u_idx)
    unit[unit == none] = -1
    return unit


def addresses_table(plan, addresses: pd.DataFrame) -> pd.DataFrame:
    """The registrar's street directory: each address with today's and the proposed school.

    Returns
    -------
    pandas.DataFrame
        ``address, lon, lat, unit_id, school_id_today, school_today, school_id_proposed,
        school_proposed, changes`` in the order of the address file; unit and schools are empty
        for an address outside the district.
    """
    d = plan.district
    unit = locate_addresses(d, addresses)
    inside = unit >= 0
    names = d.schools["name"].to_numpy(dtype=object)
    ids = d.school_ids
    sq = np.asarray(d.status_quo)
    new = np.asarray(plan.positions)

    def pick(values: np.ndarray, positions: np.ndarray) -> list:
        return [values[positions[u]] if u >= 0 else None for u in unit]

    out = pd.DataFrame({
        "address": addresses["address"].to_numpy(dtype=object),
        "lon": addresses["lon"].to_numpy(),
        "lat": addresses["lat"].to_numpy(),
        "unit_id": [d.unit_ids[u] if u >= 0 else None for u in unit],
        "school_id_today": pick(ids, sq),
        "school_today": pick(names, sq),
        "school_id_proposed": pick(ids, new),
        "school_proposed": pick(names, new),
    })
    out["changes"] = [bool(inside[k] and sq[unit[k]] != new[unit[k]]) for k in range(len(unit))]
    return out


def _zigzag(values: np.ndarray) -> str:
    """Signed integers as an encoded polyline (zigzag, 5-bit groups), vectorised."""
    return zigzag_encode(values)


def encode_address_index(addresses: pd.DataFrame, unit: np.ndarray, scale: int = 10**5) -> dict:
    """The compact address index that public.html searches.

    Addresses are split into house number and street ("12B" + "N Main St Apt 4"), grouped by
    street (sorted by its search key), and stored column-wise:

    - ``streets``: each distinct street text once; ``counts``: how many addresses each has;
    - ``numbers``: the house numbers joined by ``|``;
    - ``coords``: lon, lat deltas from address to address as an encoded polyline (1e-5 degree);
    - ``units``: unit position + 1 of each address (0: outside), deltas as an encoded polyline.

    Addresses of one street lie close together and mostly in the same unit, so deltas are a few
    characters: about 12 bytes an address (see README, "The planner's desk and the public").
    """
    text = addresses["address"].astype(str).tolist()
    numbers, streets = [], []
    for t in text:  # a plain loop: pandas' str.extract is ten times slower here
        m = _HOUSE.match(t)
        numbers.append(m.group(1) if m else "")
        streets.append(" ".join((m.group(2) if m else t).split()))
    names = sorted(set(streets), key=lambda t: (normalize_address(t), t))
    index = {t: k for k, t in enumerate(names)}
    sidx = np.fromiter((index[t] for t in streets), dtype=np.int64, count=len(streets))
    numeric = np.fromiter((int(_DIGITS.match(n).group(0) or -1) for n in numbers),
                          dtype=np.int64, count=len(numbers))
    spelled = pd.factorize(pd.Series(numbers, dtype=object), sort=True)[0]
    order = np.lexsort((np.arange(len(text)), spelled, numeric, sidx))
    counts = np.bincount(sidx, minlength=len(names))
    lon = np.round(addresses["lon"].to_numpy()[order] * scale).astype(np.int64)
    lat = np.round(addresses["lat"].to_numpy()[order] * scale).astype(np.int64)
    xy = np.column_stack([lon, lat])
    deltas = np.diff(xy, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    units = np.asarray(unit, dtype=np.int64)[order] + 1
    return {
        "streets": names,
        "counts": counts.tolist(),
        "numbers": "|".join(numbers[k] for k in order.tolist()),
        "coords": _zigzag(deltas),
        "units": _zigzag(np.diff(units, prepend=0)),
        "scale": scale,
    }


_STREETS = (
    "Oak", "Maple", "Cedar", "Pine", "Elm", "Walnut", "Willow", "Birch", "Aspen", "Laurel",
    "Magnolia", "Sycamore", "Juniper", "Hawthorn", "Chestnut", "Poplar", "Alder", "Spruce",
    "Lincoln", "Washington", "Jefferson", "Madison", "Franklin", "Jackson", "Grant", "Sutter",
    "Folsom", "Capitol", "River", "Lake", "Hill", "Park", "Meadow", "Valley", "Sunset", "Garden",
)
_SUFFIXES = ("Street", "St", "Avenue", "Ave", "Road", "Drive", "Lane", "Court", "Way", "Boulevard")
_DIRS = ("", "", "", "N ", "S ", "E ", "W ")


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def synthetic_addresses(district, n: int, *, seed: int = 0) -> pd.DataFrame:
    """``n`` made-up addresses (``address,lon,lat``) spread over the district's units.

    For tests, demos and the size measurement of public.html: streets are lines of points across
    the district with house numbers rising along them, as on real streets.
    """
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = district.units.total_bounds
    area = shapely.union_all(district.units.geometry.values)
    rows: list[tuple[str, float, float]] = []
    street_no = 0
    while len(rows) < n:
        street_no += 1
        # Every street name distinct even after normalising ("Oak St" is "Oak Street").
        base = (_STREETS[street_no - 1] if street_no <= len(_STREETS)
                else _ordinal(street_no - len(_STREETS)))
        name = f"{rng.choice(_DIRS)}{base} {rng.choice(_SUFFIXES)}"
        x0, y0 = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        angle = rng.uniform(0, np.pi)
        k = int(rng.integers(20, 120))
        step = rng.uniform(15, 40)
        t = np.arange(k) * step
        xs = x0 + t * np.cos(angle) + rng.normal(0, 3, k)
        ys = y0 + t * np.sin(angle) + rng.normal(0, 3, k)
        inside = shapely.contains_xy(area, xs, ys)
        first = int(rng.integers(1, 40)) * 100
        keep = np.flatnonzero(inside)[: n - len(rows)]
        numbers = first + 2 * keep + rng.integers(0, 2, size=len(keep))
        flats = rng.random(len(keep)) < 0.08
        apts = rng.integers(1, 30, size=len(keep))
        for m, number, flat, apt in zip(keep.tolist(), numbers.tolist(), flats.tolist(),
                                        apts.tolist(), strict=True):
            rows.append((f"{number} {name}{f' Apt {apt}' if flat else ''}",
                         float(xs[m]), float(ys[m])))
    frame = gpd.GeoDataFrame(
        {"address": [r[0] for r in rows]},
        geometry=gpd.points_from_xy([r[1] for r in rows], [r[2] for r in rows]),
        crs=district.crs,
    ).to_crs(4326)
    return pd.DataFrame({
        "address": frame["address"].to_numpy(dtype=object),
        "lon": frame.geometry.x.round(7).to_numpy(),
        "lat": frame.geometry.y.round(7).to_numpy(),
    })
