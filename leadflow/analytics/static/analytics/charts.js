// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID"> with Chart.js
// (served from static files, no CDN). Runs on load and after HTMX swaps the report.
(function () {
  "use strict";
  var PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2",
                 "#db2777", "#65a30d", "#ea580c", "#475569"];
  var lang = document.documentElement.lang || "en";

  function formatter(kind) {
    if (kind === "money") {
      var money = new Intl.NumberFormat(lang, {style: "currency", currency: "EUR", maximumFractionDigits: 0});
      return function (v) { return money.format(v); };
    }
    if (kind === "ratio") {
      var pct = new Intl.NumberFormat(lang, {style: "percent", maximumFractionDigits: 1});
      return function (v) { return pct.format(v); };
    }
    var num = new Intl.NumberFormat(lang, {maximumFractionDigits: 1});
    return function (v) { return num.format(v); };
  }

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") { return; }
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var horizontal = spec.type === "horizontalBar";
    var type = horizontal ? "bar" : spec.type;
    var round = type === "doughnut" || type === "pie";
    var leftKind = (spec.datasets.find(function (d) { return d.axis !== "y2"; }) || {}).kind;
    var rightKind = (spec.datasets.find(function (d) { return d.axis === "y2"; }) || {}).kind;
    var datasets = spec.datasets.map(function (d, i) {
      var colour = PALETTE[i % PALETTE.length];
      var set = {label: d.label, data: d.data, kind: d.kind,
                 backgroundColor: round ? PALETTE.slice(0, d.data.length) : colour,
                 borderColor: colour, borderWidth: d.type === "line" || type === "line" ? 2 : 0,
                 spanGaps: true};
      if (d.type) { set.type = d.type; }
      if (d.axis === "y2") { set.yAxisID = "y2"; }
      return set;
    });
    var valueAxis = horizontal ? "x" : "y";
    var scales = {};
    if (!round) {
      scales[valueAxis] = {beginAtZero: true, stacked: spec.stacked,
                           ticks: {callback: formatter(leftKind)}};
      scales[horizontal ? "y" : "x"] = {stacked: spec.stacked};
      if (rightKind) {
        scales.y2 = {position: "right", beginAtZero: true, grid: {drawOnChartArea: false},
                     ticks: {callback: formatter(rightKind)}};
      }
    }
    canvas.dataset.drawn = "1";
    new Chart(canvas, {
      type: type,
      data: {labels: spec.labels, datasets: datasets},
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: scales,
        plugins: {
          legend: {display: datasets.length > 1 || round},
          tooltip: {callbacks: {label: function (ctx) {
            var value = ctx.raw === null ? "—" : formatter(ctx.dataset.kind)(ctx.raw);
            return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + value;
          }}}
        }
      }
    });
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
})();
