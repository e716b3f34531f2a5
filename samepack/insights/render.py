"""Pure rendering of a report page: one HTML file holding its data, styles, plotly.js and the
page script, so it opens from ``file://``, offline, from a bundle or a mail."""

from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    return resources.files("samepack.insights").joinpath("assets", name).read_text("utf-8")


def script_safe(text: str) -> str:
    """Text that cannot end the ``<script>`` element it is put in."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def page(template: str, title: str, data: dict[str, Any], plotly: str, script: str,
         css: str) -> str:
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                         allow_nan=False)
    parts = {"@@TITLE@@": html.escape(title), "@@CSS@@": css,
             "@@DATA@@": script_safe(payload), "@@PLOTLY@@": script_safe(plotly),
             "@@JS@@": script_safe(script)}
    out, rest = [], template
    # one pass, in template order, so no part's content is searched for the next marker
    while True:
        found = [(rest.find(marker), marker) for marker in parts if marker in rest]
        if not found:
            out.append(rest)
            return "".join(out)
        index, marker = min(found)
        out += [rest[:index], parts[marker]]
        rest = rest[index + len(marker):]


def runs_page(data: dict[str, Any], plotly: str) -> str:
    return page(asset("report.html"), data["title"], data, plotly, asset("report.js"),
                asset("report.css"))
