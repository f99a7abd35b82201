"""Download the census files (when the machine is online) into a local cache.

The files are the same ones a planner downloads by hand: the TIGER/Line block-group zip and the
ACS tables as Census API JSON. They are parsed by the same readers as local files, and a response
that does not parse is never cached. Offline, :func:`fetch` fails with a :class:`FetchError` that
says which URL could not be reached and how to get the files by hand.
"""

from __future__ import annotations

import io
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from ..errors import ZoneoptError, ZoneoptInputError
from ..io import _atomic_write_bytes
from .acs import parse_acs_json

#: TIGER/Line block groups of one state.
TIGER_BG_URL = "https://www2.census.gov/geo/tiger/TIGER{year}/BG/tl_{year}_{state}_bg.zip"
#: The Census Data API's ACS 5-year endpoint.
ACS5_API_URL = "https://api.census.gov/data/{year}/acs/acs5"
#: Tables zoneopt uses: low-income share, children of elementary age, median household income.
DEFAULT_TABLES = ("C17002", "B01001", "B19013")


class FetchError(ZoneoptError):
    """A census file could not be downloaded (offline, blocked, or the server refused)."""


@dataclass(frozen=True)
class CensusFiles:
    """Paths of fetched (cached) census files, ready for :func:`zoneopt.census.build_units`."""

    block_groups: Path
    acs: tuple[Path, ...]

    def build_units(self, **kwargs: Any) -> gpd.GeoDataFrame:
        """``build_units(self.block_groups, self.acs, **kwargs)``."""
        from .units import build_units

        return build_units(self.block_groups, list(self.acs), **kwargs)


def default_cache_dir() -> Path:
    """``$ZONEOPT_CACHE``, else ``~/.cache/zoneopt/census``."""
    env = os.environ.get("ZONEOPT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "zoneopt" / "census"


def fetch(
    state: str,
    county: str | None = None,
    *,
    year: int = 2022,
    tables: Sequence[str] = DEFAULT_TABLES,
    cache_dir: str | os.PathLike | None = None,
    api_key: str | None = None,
    refresh: bool = False,
    timeout: float = 60.0,
    tiger_url: str = TIGER_BG_URL,
    api_url: str = ACS5_API_URL,
) -> CensusFiles:
    """Download a state's block groups and a county's ACS 5-year tables, with a local cache.

    Parameters
    ----------
    state
        Two-digit state FIPS code, as text ("06" for California).
    county
        Three-digit county FIPS code ("067"); None for the whole state's block groups (the
        ACS tables are then requested for every county).
    year
        Last year of the ACS 5-year release (2022 = 2018-2022) and year of the TIGER/Line file.
    tables
        ACS table ids; each is fetched whole (``group(...)``, margins included).
    cache_dir
        Folder of the cache (default :func:`default_cache_dir`); files already there are reused.
    api_key
        Census API key; anonymous use is limited to 500 requests a day.
    refresh
        Download again even when the file is cached.
    timeout
        Seconds to wait for a server.
    tiger_url, api_url
        URL templates (``{year}``, ``{state}``), e.g. a mirror.

    Returns
    -------
    CensusFiles
        The block-group zip and one JSON file per table.

    Examples
    --------
    >>> files = fetch("06", "067", year=2022)                     # doctest: +SKIP
    >>> units = files.build_units(students_total=23000)           # doctest: +SKIP
    """
    state = str(state).strip().zfill(2)
    if not re.fullmatch(r"\d{2}", state):
        raise ZoneoptInputError(f"state must be a 2-digit FIPS code such as '06' (got {state!r})")
    if county is not None:
        county = str(county).strip().zfill(3)
        if not re.fullmatch(r"\d{3}", county):
            raise ZoneoptInputError(
                f"county must be a 3-digit FIPS code such as '067' (got {county!r})"
            )
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)

    bg_url = tiger_url.format(year=year, state=state)
    bg_path = cache / f"tl_{year}_{state}_bg.zip"
    if refresh or not bg_path.is_file():
        data = _download(bg_url, timeout, what="the TIGER/Line block groups")
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise FetchError(f"{bg_url} did not return a zip file; check the year ({year})")
        _atomic_write_bytes(bg_path, data)

    acs_paths = []
    for table in tables:
        table = str(table).strip().upper()
        where = f"{state}_{county or 'all'}"
        path = cache / f"acs5_{year}_{table}_{where}.json"
        if refresh or not path.is_file():
            params = [
                ("get", f"NAME,group({table})"),
                ("for", "block group:*"),
                ("in", f"state:{state}"),
                ("in", f"county:{county or '*'}"),
                ("in", "tract:*"),
            ]
            if api_key:
                params.append(("key", api_key))
            url = api_url.format(year=year) + "?" + urllib.parse.urlencode(params, safe=":*,()")
            data = _download(url, timeout, what=f"ACS table {table}")
            text = data.decode("utf-8", errors="replace")
            try:
                parse_acs_json(text, source=url)
            except ZoneoptInputError as exc:
                raise FetchError(
                    f"the Census API's answer for {table} is not a table ({exc.detail}); "
                    f"it said: {text[:200]!r}"
                ) from None
            _atomic_write_bytes(path, data)
        acs_paths.append(path)
    return CensusFiles(block_groups=bg_path, acs=tuple(acs_paths))


def _download(url: str, timeout: float, *, what: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "zoneopt census fetch"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise FetchError(
            f"could not download {what}: {url} answered HTTP {exc.code} {exc.reason}"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(
            f"could not download {what} from {url} ({reason}); this machine seems to be offline "
            "or the server is unreachable. Download the file by hand (data.census.gov or "
            "https://www.census.gov/geographies/mapping-files.html) and pass the local files to "
            "build_units / `zoneopt units`"
        ) from None
