"""fetch(): offline error, cache, and the same parsing as local files. No real network call."""

from __future__ import annotations

import io
import socket
import urllib.parse
import urllib.request

import pytest

from zoneopt.census import CensusWarning, FetchError, fetch, read_acs_table, read_block_groups
from zoneopt.census.fetch import CensusFiles


def _closed_port() -> int:
    """A local TCP port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_gives_a_clear_error_and_caches_nothing(tmp_path):
    port = _closed_port()
    with pytest.raises(FetchError, match="offline or the server is unreachable") as err:
        fetch(
            "06", "067", cache_dir=tmp_path, timeout=5,
            tiger_url=f"http://127.0.0.1:{port}/tl_{{year}}_{{state}}_bg.zip",
        )
    assert "Download the file by hand" in str(err.value)
    assert list(tmp_path.iterdir()) == []


class _FakeServer:
    """Stands in for urlopen: answers TIGER and API URLs with the sample files' bytes."""

    def __init__(self, samples, to_api_json, tmp_path):
        self.bg = samples["bg_zip"].read_bytes()
        self.tables = {
            "B01001": samples["b01001_json"].read_bytes(),
            "C17002": to_api_json(samples["c17002_csv"], tmp_path / "c.json").read_bytes(),
        }
        self.urls: list[str] = []

    def __call__(self, request, timeout=None):
        url = request.full_url
        self.urls.append(url)
        if url.endswith(".zip"):
            return io.BytesIO(self.bg)
        query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
        table = query["get"][0].split("group(")[1].rstrip(")")
        if table not in self.tables:
            return io.BytesIO(b"error: unknown variable 'group(" + table.encode() + b")'")
        return io.BytesIO(self.tables[table])


@pytest.fixture
def server(samples, to_api_json, tmp_path, monkeypatch):
    fake = _FakeServer(samples, to_api_json, tmp_path)
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    return fake


def test_fetch_downloads_once_and_parses_like_local_files(server, samples, tmp_path):
    cache = tmp_path / "cache"
    files = fetch("6", "67", year=2022, tables=["C17002", "B01001"], cache_dir=cache)
    assert isinstance(files, CensusFiles)
    assert files.block_groups == cache / "tl_2022_06_bg.zip"
    assert [p.name for p in files.acs] == [
        "acs5_2022_C17002_06_067.json", "acs5_2022_B01001_06_067.json"
    ]
    assert server.urls[0] == "https://www2.census.gov/geo/tiger/TIGER2022/BG/tl_2022_06_bg.zip"
    query = urllib.parse.parse_qs(urllib.parse.urlparse(server.urls[1]).query)
    assert query["for"] == ["block group:*"]
    assert query["in"] == ["state:06", "county:067", "tract:*"]
    assert read_block_groups(files.block_groups)["GEOID"].tolist() == read_block_groups(
        samples["bg_zip"]
    )["GEOID"].tolist()
    assert read_acs_table(files.acs[1]).equals(read_acs_table(samples["b01001_json"]))
    # Second call: everything from the cache.
    before = len(server.urls)
    again = fetch("06", "067", year=2022, tables=["C17002", "B01001"], cache_dir=cache)
    assert again == files and len(server.urls) == before
    with pytest.warns(CensusWarning):
        units = files.build_units(students_total=500)
    assert int(units["students"].sum()) == 500


def test_an_answer_that_is_not_a_table_is_not_cached(server, tmp_path):
    with pytest.raises(FetchError, match="B99999"):
        fetch("06", "067", tables=["B99999"], cache_dir=tmp_path)
    assert not list(tmp_path.glob("acs5_*"))


def test_bad_codes_are_input_errors(tmp_path):
    from zoneopt.errors import ZoneoptInputError

    with pytest.raises(ZoneoptInputError, match="2-digit FIPS"):
        fetch("California", cache_dir=tmp_path)
    with pytest.raises(ZoneoptInputError, match="3-digit FIPS"):
        fetch("06", "Sacramento", cache_dir=tmp_path)
