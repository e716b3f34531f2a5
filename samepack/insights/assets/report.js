/* The run report's page logic: reads the JSON in #report-data, draws with Plotly (embedded
   above this script), needs no network. Pages: overview, runs, charts, run, compare. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var RUNS = DATA.runs;
  var BY_ID = {};
  RUNS.forEach(function (r) { BY_ID[r.id] = r; });
  var ROW_LIMIT = 500;
  var PLOT_CONFIG = { displaylogo: false, responsive: true, showTips: false };
  var state = { sort: "started", desc: true, selected: [] };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(+v.toPrecision(6));
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function short(id) { return id.slice(0, 8); }
  function num(v) { return typeof v === "number" ? v : (v !== "" && !isNaN(+v) ? +v : null); }
  function byId(id) { return document.getElementById(id); }
  function options(select, values, all) {
    select.innerHTML = "";
    if (all) select.appendChild(el("option", { value: "", text: all }));
    values.forEach(function (v) { select.appendChild(el("option", { value: v, text: v })); });
  }

  // ---- navigation ---------------------------------------------------------------------------
  function show(page) {
    document.querySelectorAll("section.page").forEach(function (s) {
      s.classList.toggle("active", s.id === "page-" + page);
    });
    document.querySelectorAll("nav a").forEach(function (a) {
      a.classList.toggle("active", a.getAttribute("data-page") === page);
    });
    byId("filters").style.display = page === "runs" || page === "charts" ? "" : "none";
  }
  function route() {
    var hash = decodeURIComponent(location.hash.slice(1));
    if (hash.indexOf("run=") === 0 && BY_ID[hash.slice(4)]) { showRun(hash.slice(4)); return; }
    if (hash.indexOf("compare=") === 0) {
      var ids = hash.slice(8).split(",");
      if (ids.length === 2 && BY_ID[ids[0]] && BY_ID[ids[1]]) { showCompare(ids[0], ids[1]); return; }
    }
    var page = ["overview", "runs", "charts"].indexOf(hash) >= 0 ? hash : "overview";
    show(page);
    if (page === "charts") drawCharts();
  }

  // ---- overview -----------------------------------------------------------------------------
  function overview() {
    var h = DATA.highlights, cards = byId("cards");
    cards.appendChild(el("div", { class: "card" }, [el("b", { text: String(h.total) }),
      el("span", { text: "runs of " + DATA.programs.length + " program(s)" })]));
    Object.keys(h.by_status).forEach(function (s) {
      cards.appendChild(el("div", { class: "card" }, [el("b", { text: String(h.by_status[s]) }),
        el("span", { text: s })]));
    });
    var body = byId("best-body");
    Object.keys(h.metrics).forEach(function (m) {
      var x = h.metrics[m];
      body.appendChild(el("tr", {}, [el("td", { text: m }), el("td", { text: fmt(x.min) }),
        el("td", {}, [runLink(x.min_run)]), el("td", { text: fmt(x.max) }),
        el("td", {}, [runLink(x.max_run)]), el("td", { text: String(x.runs) })]));
    });
    if (!Object.keys(h.metrics).length) byId("best").appendChild(el("p", { class: "note", text: "No metrics recorded." }));
  }
  function runLink(id) {
    return el("a", { class: "run-link", href: "#run=" + id, text: short(id) });
  }

  // ---- runs table ---------------------------------------------------------------------------
  var COLUMNS = [["id", "run"], ["ref", "program"], ["status", "status"], ["started", "started"]]
    .concat(DATA.params.map(function (p) { return ["param:" + p, p]; }))
    .concat(DATA.metrics.map(function (m) { return ["metric:" + m, m]; }));
  function cell(run, key) {
    if (key === "ref") return run.program + ":" + run.version;
    if (key.indexOf("param:") === 0) return run.params[key.slice(6)];
    if (key.indexOf("metric:") === 0) return run.metrics[key.slice(7)];
    return run[key];
  }
  function matches(run) {
    var p = byId("f-program").value, v = byId("f-version").value, s = byId("f-status").value;
    var text = byId("f-param").value.trim();
    if (p && run.program !== p) return false;
    if (v && run.program + ":" + run.version !== v) return false;
    if (s && run.status !== s) return false;
    if (text) {
      var parts = text.split("="), name = parts[0].trim(), want = parts.slice(1).join("=").trim();
      if (parts.length > 1) {
        if (!(name in run.params) || fmt(run.params[name]) !== want) return false;
      } else {
        var hay = Object.keys(run.params).map(function (k) { return k + "=" + fmt(run.params[k]); });
        hay.push(run.id);
        if (!hay.some(function (h) { return h.indexOf(text) >= 0; })) return false;
      }
    }
    return true;
  }
  function filtered() {
    var rows = RUNS.filter(matches), key = state.sort, desc = state.desc;
    rows.sort(function (a, b) {
      var x = cell(a, key), y = cell(b, key), nx = num(x), ny = num(y), c;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      c = nx !== null && ny !== null ? nx - ny : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
      return desc ? -c : c;
    });
    return rows;
  }
  function drawTable() {
    var head = byId("runs-head"), body = byId("runs-body"), rows = filtered();
    head.innerHTML = "";
    var tr = el("tr", {}, [el("th", { text: "" })]);
    COLUMNS.forEach(function (c) {
      var th = el("th", { text: c[1], "data-key": c[0] });
      if (state.sort === c[0]) th.className = state.desc ? "sorted-desc" : "sorted-asc";
      th.addEventListener("click", function () {
        state.desc = state.sort === c[0] ? !state.desc : false;
        state.sort = c[0];
        drawTable();
      });
      tr.appendChild(th);
    });
    head.appendChild(tr);
    body.innerHTML = "";
    rows.slice(0, ROW_LIMIT).forEach(function (run) {
      var box = el("input", { type: "checkbox", "data-run": run.id });
      box.checked = state.selected.indexOf(run.id) >= 0;
      box.addEventListener("change", function () { select(run.id, box.checked); });
      var row = el("tr", { class: "run-row", "data-run": run.id }, [el("td", {}, [box])]);
      COLUMNS.forEach(function (c) {
        var value = cell(run, c[0]);
        var td = c[0] === "id" ? el("td", { class: "mono" }, [runLink(run.id)])
          : el("td", { text: c[0] === "started" ? fmt(value).replace("T", " ").slice(0, 19) : fmt(value) });
        if (c[0] === "status") td.className = "status-" + run.status;
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    byId("runs-count").textContent = rows.length > ROW_LIMIT
      ? "showing " + ROW_LIMIT + " of " + rows.length + " matching runs (" + RUNS.length + " in all)"
      : rows.length + " of " + RUNS.length + " runs";
  }
  function select(id, on) {
    state.selected = state.selected.filter(function (x) { return x !== id; });
    if (on) state.selected.push(id);
    if (state.selected.length > 2) state.selected = state.selected.slice(-2);
    var button = byId("compare-button");
    button.disabled = state.selected.length !== 2;
    document.querySelectorAll("#runs-body input[type=checkbox]").forEach(function (b) {
      b.checked = state.selected.indexOf(b.getAttribute("data-run")) >= 0;
    });
  }

  // ---- charts -------------------------------------------------------------------------------
  function metricName() { return byId("c-metric").value; }
  function drawCharts() {
    var metric = metricName(), rows = filtered().slice().reverse();
    if (!metric) { byId("charts-note").textContent = "No metrics recorded."; return; }
    var withMetric = rows.filter(function (r) { return num(r.metrics[metric]) !== null; });
    withMetric.sort(function (a, b) { return (a.started || "") < (b.started || "") ? -1 : 1; });
    Plotly.react("chart-across", [{
      type: "scatter", mode: "lines+markers", name: metric,
      x: withMetric.map(function (r, i) { return i + 1; }),
      y: withMetric.map(function (r) { return num(r.metrics[metric]); }),
      text: withMetric.map(function (r) { return short(r.id) + " " + r.program + ":" + r.version; }),
      hovertemplate: "%{text}<br>" + metric + "=%{y}<extra></extra>"
    }], { title: { text: metric + " across runs (oldest first)" }, xaxis: { title: { text: "run" } },
          yaxis: { title: { text: metric } }, margin: { t: 40, r: 10 } }, PLOT_CONFIG);
    var stepped = withMetric.filter(function (r) { return r.series[metric] && r.series[metric].step.length > 1; });
    var lines = stepped.slice(-50).map(function (r) {
      return { type: "scatter", mode: "lines", name: short(r.id),
               x: r.series[metric].step, y: r.series[metric].value.map(num) };
    });
    if (lines.length) {
      Plotly.react("chart-steps", lines, { title: { text: metric + " over its steps" + (stepped.length > 50 ? " (last 50 runs)" : "") },
        xaxis: { title: { text: "step" } }, yaxis: { title: { text: metric } }, margin: { t: 40, r: 10 } }, PLOT_CONFIG);
    } else {  // one value per run: the runs side by side instead
      var last = withMetric.slice(-50);
      Plotly.react("chart-steps", [{ type: "bar", x: last.map(function (r) { return short(r.id); }),
        y: last.map(function (r) { return num(r.metrics[metric]); }),
        marker: { color: last.map(function (r) { return r.status === "succeeded" ? "#3b6fd8" : "#c0262d"; }) } }],
        { title: { text: metric + " by run (logged once per run)" }, xaxis: { type: "category" },
          yaxis: { title: { text: metric } }, margin: { t: 40, r: 10 } }, PLOT_CONFIG);
    }
    var param = byId("c-param").value;
    if (param === "__parallel__") {
      var numeric = DATA.params.filter(function (p) {  // numeric and not the same in every run
        var values = withMetric.map(function (r) { return num(r.params[p]); }).filter(function (v) { return v !== null; });
        return values.length && values.some(function (v) { return v !== values[0]; });
      });
      var dims = numeric.map(function (p) {
        return { label: p, values: withMetric.map(function (r) { var v = num(r.params[p]); return v === null ? NaN : v; }) };
      });
      var values = withMetric.map(function (r) { return num(r.metrics[metric]); });
      dims.push({ label: metric, values: values });
      Plotly.react("chart-params", [{ type: "parcoords", dimensions: dims,
        line: { color: values, colorscale: "Viridis", showscale: true } }],
        { title: { text: "parameters against " + metric, y: 0.98 }, margin: { t: 90, l: 60, r: 60 } }, PLOT_CONFIG);
    } else {
      var xs = withMetric.map(function (r) { var v = r.params[param]; return num(v) !== null ? num(v) : fmt(v); });
      Plotly.react("chart-params", [{ type: "scatter", mode: "markers", x: xs,
        y: withMetric.map(function (r) { return num(r.metrics[metric]); }),
        text: withMetric.map(function (r) { return short(r.id); }), marker: { size: 9 } }],
        { title: { text: metric + " against " + param }, xaxis: { title: { text: param } },
          yaxis: { title: { text: metric } }, margin: { t: 40, r: 10 } }, PLOT_CONFIG);
    }
    byId("charts-note").textContent = withMetric.length + " run(s) with " + metric + " (the runs table's filters apply)";
  }

  // ---- one run ------------------------------------------------------------------------------
  function kv(rows) {
    var body = el("tbody");
    rows.forEach(function (r) {
      body.appendChild(el("tr", {}, r.map(function (c, i) {
        return el("td", { text: fmt(c), class: i > 0 && /^[0-9a-f]{12,}$|^sha256:/.test(fmt(c)) ? "mono" : "" });
      })));
    });
    return body;
  }
  function table(head, rows) {
    return el("table", {}, [el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { text: h }); }))]), kv(rows)]);
  }
  function showRun(id) {
    var run = BY_ID[id], page = byId("run-detail");
    show("run");
    page.innerHTML = "";
    page.appendChild(el("h2", { text: "Run " + run.id + " — " + run.program + ":" + run.version + " (" + run.status + ")" }));
    page.appendChild(table(["what", "value"], [["started", run.started], ["ended", run.ended],
      ["seconds", run.duration_s], ["source", run.source], ["lock digest", run.lock_digest],
      ["git commit", run.git_commit], ["git dirty", run.git_dirty]]));
    page.appendChild(el("h2", { text: "Parameters" }));
    page.appendChild(table(["name", "value"], Object.keys(run.params).map(function (k) { return [k, run.params[k]]; })));
    page.appendChild(el("h2", { text: "Metrics" }));
    page.appendChild(table(["name", "last", "points"], Object.keys(run.metrics).map(function (k) {
      return [k, run.metrics[k], run.series[k] ? run.series[k].step.length : 1];
    })));
    var chart = el("div", { class: "chart", id: "run-chart" });
    page.appendChild(chart);
    var traces = Object.keys(run.series).map(function (k) {
      return { type: "scatter", mode: run.series[k].step.length > 1 ? "lines+markers" : "markers",
               name: k, x: run.series[k].step, y: run.series[k].value.map(num) };
    });
    if (traces.length) Plotly.newPlot(chart, traces, { title: { text: "metrics over their steps" },
      xaxis: { title: { text: "step" } }, margin: { t: 40, r: 10 } }, PLOT_CONFIG);
    else chart.appendChild(el("p", { class: "note", text: "No metrics recorded." }));
    page.appendChild(el("h2", { text: "Steps" }));
    page.appendChild(table(["step", "status", "exit code", "seconds"], run.steps.map(function (s) {
      return [s.name, s.status, s.exit_code, s.seconds];
    })));
    page.appendChild(el("h2", { text: "Outputs" }));
    page.appendChild(table(["path", "size", "sha256"], run.outputs.map(function (o) { return [o.path, o.size, o.sha256]; })));
    page.appendChild(el("h2", { text: "Log (last lines)" }));
    var log = el("pre", { class: "log", id: "run-log", text: run.log.length ? run.log.join("\n") : "(no output kept)" });
    page.appendChild(log);
    log.scrollTop = log.scrollHeight;  // the last lines first in view
    page.appendChild(el("h2", { text: "Machine" }));
    page.appendChild(table(["what", "value"], Object.keys(run.host).map(function (k) { return [k, run.host[k]]; })));
    page.appendChild(el("h2", { text: "Tags" }));
    page.appendChild(table(["name", "value"], Object.keys(run.tags).map(function (k) { return [k, run.tags[k]]; })));
  }

  // ---- two runs side by side ----------------------------------------------------------------
  function showCompare(a, b) {
    var x = BY_ID[a], y = BY_ID[b], page = byId("compare-detail");
    show("compare");
    page.innerHTML = "";
    page.appendChild(el("h2", { text: "Run " + short(a) + " against run " + short(b) }));
    var rows = [["program", x.program + ":" + x.version, y.program + ":" + y.version],
                ["status", x.status, y.status], ["started", x.started, y.started],
                ["lock digest", x.lock_digest, y.lock_digest], ["git commit", x.git_commit, y.git_commit]];
    function names(kind) {
      var seen = {};
      Object.keys(x[kind]).concat(Object.keys(y[kind])).forEach(function (k) { seen[k] = 1; });
      return Object.keys(seen).sort();
    }
    names("params").forEach(function (k) { rows.push(["param " + k, x.params[k], y.params[k]]); });
    names("metrics").forEach(function (k) { rows.push(["metric " + k, x.metrics[k], y.metrics[k]]); });
    var outputs = {};
    x.outputs.concat(y.outputs).forEach(function (o) { outputs[o.path] = 1; });
    function sha(run, path) { var o = run.outputs.filter(function (o) { return o.path === path; })[0]; return o ? o.sha256 : undefined; }
    Object.keys(outputs).sort().forEach(function (p) { rows.push(["output " + p, sha(x, p), sha(y, p)]); });
    var body = el("tbody");
    var differ = 0;
    rows.forEach(function (r) {
      var same = fmt(r[1]) === fmt(r[2]);
      if (!same) differ++;
      body.appendChild(el("tr", { class: same ? "" : "differs" }, [el("td", { text: r[0] }),
        el("td", { text: fmt(r[1]) }), el("td", { text: fmt(r[2]) }), el("td", { text: same ? "" : "differs" })]));
    });
    page.appendChild(el("p", { id: "compare-summary", text: differ + " of " + rows.length + " values differ (marked)" }));
    page.appendChild(el("table", { id: "compare-table" }, [el("thead", {}, [el("tr", {}, ["", short(a), short(b), ""].map(function (h) {
      return el("th", { text: h }); }))]), body]));
  }

  // ---- start --------------------------------------------------------------------------------
  function start() {
    byId("title").textContent = DATA.title;
    options(byId("f-program"), DATA.programs, "all programs");
    options(byId("f-version"), DATA.versions, "all versions");
    options(byId("f-status"), DATA.statuses, "any status");
    options(byId("c-metric"), DATA.metrics);
    options(byId("c-param"), DATA.params);
    byId("c-param").appendChild(el("option", { value: "__parallel__", text: "all (parallel coordinates)" }));
    if (!DATA.params.length) byId("c-param").value = "__parallel__";
    ["f-program", "f-version", "f-status", "f-param"].forEach(function (id) {
      byId(id).addEventListener("input", function () { drawTable(); if (location.hash === "#charts") drawCharts(); });
    });
    ["c-metric", "c-param"].forEach(function (id) { byId(id).addEventListener("change", drawCharts); });
    byId("compare-button").addEventListener("click", function () {
      location.hash = "compare=" + state.selected.join(",");
    });
    overview();
    drawTable();
    window.addEventListener("hashchange", route);
    route();
    if (DATA.live) poll();
  }
  function poll() {
    var known = null;
    setInterval(function () {
      fetch("version").then(function (r) { return r.text(); }).then(function (v) {
        if (known === null) known = v;
        else if (v !== known) location.reload();
      }).catch(function () {});
    }, 2000);
  }
  start();
})();
