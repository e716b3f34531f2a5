"""The HTML form of a reproduction report (``samepack reproduce`` writes it beside the JSON and
Markdown): the recorded run against its re-runs, what matched and what did not. Pure."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from samepack.insights.plotlyjs import plotly_js
from samepack.insights.render import asset, page

if TYPE_CHECKING:
    from samepack.reproduce.report import ReproReport


def _finite(value):
    """JSON has no NaN or infinity: the page shows them as text."""
    return json.loads(json.dumps(value, allow_nan=True).replace("NaN", '"nan"')
                      .replace("-Infinity", '"-inf"').replace("Infinity", '"inf"'))


def repro_html(report: "ReproReport", headline: str, tolerance_text: str) -> str:
    data = _finite({**report.to_json(), "headline": headline, "tolerance_text": tolerance_text})
    return page(asset("reproduce.html"), f"Reproduction of {report.program}", data,
                plotly_js(), asset("reproduce.js"), asset("report.css"))
