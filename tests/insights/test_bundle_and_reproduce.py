"""The report travels in an exported bundle and `inspect` opens it; `reproduce` writes its
report as HTML too. Both are looked at in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("reproduce")


def _offsite(page) -> list[str]:
    return [url for url in page.requests if not url.startswith(("file://", "data:", "blob:"))]


def test_bundle_report_inspect_and_reproduce_html(samepack, fixture_project, tmp_path: Path,
                                                  page, artifacts_dir):
    project = fixture_project("argparse-script")
    assert samepack("init", project, "--force").exit_code == 0
    assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
    ran = samepack("run", "program", "argparse-script", "--epochs=12")
    assert ran.exit_code == 0, ran.stderr
    bundle = tmp_path / "argparse-script.tgz"
    assert samepack("export", "program", "-n", "argparse-script", "-o", bundle).exit_code == 0

    target = tmp_path / "from-bundle.html"
    inspected = samepack("inspect", bundle, "--report", target)
    assert inspected.exit_code == 0, inspected.stderr
    assert inspected.stdout.strip() == str(target)
    page.goto(target.as_uri() + "#runs")
    page.wait_for_selector("#runs-body tr")
    assert page.locator("#runs-body tr").count() == 1
    assert "epochs" in page.inner_text("#runs-head") and "12" in page.inner_text("#runs-body")
    page.goto(target.as_uri() + "#charts")
    page.wait_for_selector("#chart-across .main-svg")
    assert page.locator("#chart-across .scatterlayer .point").count() == 1
    # its metrics are logged once per run: the second chart shows the runs' values as bars
    assert page.locator("#chart-steps .barlayer .point").count() == 1

    reports = tmp_path / "reports"
    result = samepack("reproduce", bundle, "--no-env", "--report-dir", reports)
    assert result.exit_code == 0, result.stderr
    (html,) = reports.glob("reproduce-*.html")
    page.goto(html.as_uri())
    page.wait_for_selector("#metrics-chart .main-svg")
    assert "reproduced: every recorded metric and output matched" in page.inner_text("#headline")
    verdicts = page.locator("#metrics-table tbody tr td:last-child").all_inner_texts()
    assert verdicts and set(verdicts) == {"match"}
    # one group of bars per metric: recorded and two re-runs
    assert page.locator("#metrics-chart .barlayer .trace").count() == 3
    assert "model.json" in page.inner_text("#outputs-table")
    page.screenshot(path=str(artifacts_dir / "reproduce.png"), full_page=True)
    assert page.errors == [] and _offsite(page) == []

    nothing = tmp_path / "none.tgz"
    assert samepack("export", "program", "-n", "argparse-script", "-o", nothing,
                    "--runs", "none").exit_code == 0
    missing = samepack("inspect", nothing, "--report", tmp_path / "x.html")
    assert missing.exit_code == 4 and "carries no run report" in missing.stderr
    assert not (tmp_path / "x.html").exists()
