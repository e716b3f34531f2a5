"""`samepack runs report` opened in a real headless Chromium: what a person sees."""

from __future__ import annotations

import json

from samepack.history import History
from samepack.history.records import MetricPoint

ALPHAS = [0.1, 0.3, 0.5, 0.7, 0.9]


def _history(samepack_home) -> list[str]:
    """Five runs of one program (one failed), each with a loss over ten steps, an accuracy,
    an output and a kept log."""
    history = History()
    ids = []
    for index, alpha in enumerate(ALPHAS):
        run_id = history.start_run("wine", "1.0" if index < 3 else "1.1",
                                   {"alpha": alpha, "solver": "lbfgs"},
                                   lock_digest="sha256:" + "ab" * 32, git_commit="c0ffee" * 6,
                                   host={"hostname": "box", "cpus": 2})
        history.log_metrics(run_id, [("loss", MetricPoint(alpha / (step + 1), step, None, "train"))
                                     for step in range(10)])
        history.log_metric(run_id, "accuracy", 1 - alpha / 2, stage="evaluate")
        history.record_step(run_id, "train", 0 if index != 4 else 1, None, 2.0,
                            "succeeded" if index != 4 else "failed")
        history.finish_run(run_id, "succeeded" if index != 4 else "failed",
                           [{"path": "model.json", "size": 10 + index, "sha256": f"{index}" * 64}])
        logs = samepack_home / "runs" / run_id / "logs"
        logs.mkdir(parents=True)
        (logs / "train.log").write_text("".join(f"epoch {e} alpha {alpha}\n" for e in range(60)))
        ids.append(run_id)
    history.close()
    return ids


def test_report_draws_filters_and_shows_runs(samepack, samepack_home, tmp_path, page,
                                             artifacts_dir):
    ids = _history(samepack_home)
    target = tmp_path / "report.html"
    made = samepack("runs", "report", "-o", target)
    assert made.exit_code == 0, made.stderr
    assert made.stdout.strip() == str(target)
    size = target.stat().st_size
    assert size < 8_000_000, f"report of {size} bytes is too big to mail"

    page.goto(target.as_uri() + "#charts")
    page.wait_for_selector("#chart-across .main-svg")
    # accuracy (the first metric) is logged once per run: the second chart has a bar per run
    assert page.locator("#chart-steps .barlayer .point").count() == len(ALPHAS)
    page.select_option("#c-metric", "loss")
    # every run with the metric is a drawn point; the step chart has one line per run
    assert page.locator("#chart-across .scatterlayer .point").count() == len(ALPHAS)
    assert page.locator("#chart-steps .scatterlayer .trace").count() == len(ALPHAS)
    assert page.locator("#chart-params .scatterlayer .point").count() == len(ALPHAS)
    page.screenshot(path=str(artifacts_dir / "report-charts.png"), full_page=True)

    page.select_option("#c-param", "__parallel__")
    page.wait_for_selector("#chart-params .parcoords")
    assert page.locator("#chart-params .parcoords .axis").count() == 2  # alpha and the metric

    page.goto(target.as_uri() + "#runs")
    rows = page.locator("#runs-body tr")
    assert rows.count() == len(ALPHAS)
    page.fill("#f-param", "alpha=0.3")
    assert rows.count() == 1 and ids[1][:8] in rows.first.inner_text()
    page.fill("#f-param", "")
    page.select_option("#f-status", "failed")
    assert rows.count() == 1 and ids[4][:8] in rows.first.inner_text()
    page.select_option("#f-status", "")
    page.select_option("#f-version", "wine:1.1")
    assert rows.count() == 2
    page.select_option("#f-version", "")
    page.click("#runs-head th[data-key='metric:accuracy']")  # ascending
    first = page.locator("#runs-body tr").first.get_attribute("data-run")
    assert first == ids[-1]  # alpha 0.9: the lowest accuracy

    page.click(f"#runs-body tr[data-run='{ids[2]}'] a.run-link")
    page.wait_for_selector("#run-log")
    log = page.inner_text("#run-log")
    assert "epoch 59 alpha 0.5" in log and "epoch 0 alpha" not in log  # the tail only
    assert page.locator("#run-chart .main-svg").count() >= 1
    detail = page.inner_text("#run-detail")
    assert "sha256:" + "ab" * 32 in detail and "2" * 64 in detail and "c0ffee" in detail
    page.screenshot(path=str(artifacts_dir / "report-run.png"), full_page=True)

    page.goto(target.as_uri() + "#runs")
    page.check(f"#runs-body input[data-run='{ids[0]}']")
    page.check(f"#runs-body input[data-run='{ids[1]}']")
    page.click("#compare-button")
    page.wait_for_selector("#compare-table")
    differing = page.locator("#compare-table tr.differs td:first-child").all_inner_texts()
    assert "param alpha" in differing and "metric loss" in differing
    assert "param solver" not in differing
    assert "output model.json" in differing

    assert page.errors == []
    offsite = [url for url in page.requests if not url.startswith(("file://", "data:", "blob:"))]
    assert offsite == [], f"the report made network requests: {offsite}"


def test_report_is_deterministic_and_escapes_data(samepack, samepack_home, tmp_path, page):
    history = History()
    run_id = history.start_run("odd", "1.0", {"note": "</script><script>alert(1)</script>"})
    history.log_metric(run_id, "loss", float("nan"))
    history.finish_run(run_id, "succeeded")
    history.close()
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    assert samepack("runs", "report", "-o", first).exit_code == 0
    assert samepack("runs", "report", "-o", second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    page.goto(first.as_uri() + "#runs")
    page.wait_for_selector("#runs-body tr")
    assert "</script><script>alert(1)</script>" in page.inner_text("#runs-body")
    assert page.errors == []
    data = page.evaluate("JSON.parse(document.getElementById('report-data').textContent)")
    assert data["runs"][0]["metrics"] == {"loss": "nan"}
    assert json.dumps(data)  # what the page reads is plain JSON
