/* The reproduction report's page: the recorded run against its re-runs, drawn with Plotly. */
(function () {
  "use strict";
  var R = JSON.parse(document.getElementById("report-data").textContent);
  var CONFIG = { displaylogo: false, responsive: true };
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k]; else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }
  function fmt(v) { return v === null || v === undefined ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v); }
  function table(id, head, rows, verdictColumn) {
    var body = el("tbody");
    rows.forEach(function (r) {
      var verdict = r[verdictColumn];
      body.appendChild(el("tr", { class: "verdict-" + verdict }, r.map(function (c) { return el("td", { text: fmt(c) }); })));
    });
    return el("table", { id: id }, [el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { text: h }); }))]), body]);
  }
  document.getElementById("headline").textContent = R.headline;
  document.getElementById("headline").className = "headline outcome-" + R.outcome;
  var facts = [["program", R.program], ["source", R.source], ["recorded run", R.run],
               ["re-runs", R.repeats + " (" + R.reruns.join(", ") + ")"], ["comparison", R.tolerance_text],
               ["environment", R.environment], ["parameters", JSON.stringify(R.params)]];
  document.getElementById("facts").appendChild(table("facts-table", ["what", "value"], facts, 99));
  var main = document.getElementById("details");
  main.appendChild(el("h2", { text: "Metrics" }));
  main.appendChild(table("metrics-table", ["metric", "recorded", "reproduced", "difference", "verdict"],
    R.metrics.map(function (m) { return [m.name, m.recorded, (m.reproduced || []).map(fmt).join(", "), m.difference, m.verdict]; }), 4));
  if (R.metrics.length) {
    var chart = el("div", { class: "chart", id: "metrics-chart" });
    main.appendChild(chart);
    var names = R.metrics.map(function (m) { return m.name; });
    var traces = [{ type: "bar", name: "recorded", x: names, y: R.metrics.map(function (m) { return m.recorded; }) }];
    for (var i = 0; i < R.repeats; i++) {
      traces.push({ type: "bar", name: "re-run " + (i + 1), x: names,
        y: R.metrics.map(function (m) { return (m.reproduced || [])[i]; }) });
    }
    Plotly.newPlot(chart, traces, { barmode: "group", title: { text: "recorded against re-runs" }, margin: { t: 40 } }, CONFIG);
  }
  if (R.artifacts.length) {
    main.appendChild(el("h2", { text: "Outputs" }));
    main.appendChild(table("outputs-table", ["file", "recorded sha256", "reproduced sha256", "verdict"],
      R.artifacts.map(function (a) { return [a.path, a.recorded, (a.reproduced || []).join(", "), a.verdict]; }), 3));
  }
  main.appendChild(el("h2", { text: "Machine differences" }));
  if (R.machine.length) main.appendChild(table("machine-table", ["what", "recorded", "here"],
    R.machine.map(function (d) { return [d.what, d.recorded, d.here]; }), 99));
  else main.appendChild(el("p", { text: "None recorded." }));
})();
