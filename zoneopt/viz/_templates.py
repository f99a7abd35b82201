"""Package files of zoneopt.viz: the Jinja2 templates and the vendored browser assets."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import jinja2


@lru_cache(maxsize=1)
def env() -> jinja2.Environment:
    """The templates' environment: autoescaping on, so every value is HTML-escaped by default."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("zoneopt.viz", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def template_text(name: str) -> str:
    """The raw text of ``templates/<name>`` (for folium templates and inline CSS)."""
    return resources.files("zoneopt.viz").joinpath("templates", name).read_text(encoding="utf-8")


def asset_text(name: str) -> str:
    """The text of ``assets/<name>``."""
    return resources.files("zoneopt.viz").joinpath("assets", name).read_text(encoding="utf-8")


def asset_bytes(name: str) -> bytes:
    """The bytes of ``assets/<name>``."""
    return resources.files("zoneopt.viz").joinpath("assets", name).read_bytes()
