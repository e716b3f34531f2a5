"""plotly.js, the plotting library the reports embed, read from the ``plotly`` Python package
(its ``package_data/plotly.min.js``) without importing plotly itself."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from samepack.errors import ToolMissingError


@lru_cache(maxsize=1)
def plotly_js() -> str:
    spec = importlib.util.find_spec("plotly")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        bundle = Path(location) / "package_data" / "plotly.min.js"
        if bundle.is_file():
            return bundle.read_text(encoding="utf-8")
    raise ToolMissingError("plotly.js is not installed (the report draws its charts with it)",
                           "pip install plotly")
