"""`pip install .` must carry every data file the package reads (the demo, the map assets)."""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_package_data_patterns_cover_every_non_python_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["zoneopt"]
    package = ROOT / "zoneopt"
    missing = []
    for path in package.rglob("*"):
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(package).as_posix()
        if not any(fnmatch.fnmatch(rel, pattern) and rel.count("/") == pattern.count("/")
                   for pattern in patterns):
            missing.append(rel)
    assert not missing, f"not shipped by pip install .: {missing}"
