// Charts of the role dashboards, drawn from the JSON the server put in #dashboard-charts.
// Each chart: {type, labels, datasets: [{label, data, urls, yAxisID?}], money?, percent?,
// horizontal?, dual?}. A click on a bar, point or slice opens the list behind it (urls[index]);
// the same figures are links in the tables beside the charts.
(function () {
  "use strict";
  var COLOURS = ["#1f4e79", "#f0b429", "#198754", "#dc3545", "#6c757d", "#0dcaf0", "#6f42c1"];

  function formatter(chart) {
    var locale = document.documentElement.lang || "fr";
    if (chart.money) {
      var money = new Intl.NumberFormat(locale, { style: "currency", currency: "EUR", maximumFractionDigits: 0 });
      return function (value) { return money.format(value); };
    }
    if (chart.percent) { return function (value) { return value + " %"; }; }
    return function (value) { return value; };
  }

  function build(canvas, chart) {
    var single = chart.datasets.length === 1;
    var datasets = chart.datasets.map(function (dataset, index) {
      var colour = COLOURS[index % COLOURS.length];
      var result = {
        label: dataset.label,
        data: dataset.data,
        urls: dataset.urls,
        borderColor: colour,
        backgroundColor: chart.type === "doughnut" ? COLOURS : colour,
        spanGaps: true,
        tension: 0.2
      };
      if (dataset.yAxisID) { result.yAxisID = dataset.yAxisID; }
      return result;
    });
    var format = formatter(chart);
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: !single || chart.type === "doughnut", position: "bottom" } },
      onClick: function (event, elements) {
        if (!elements.length) { return; }
        var target = elements[0];
        var urls = datasets[target.datasetIndex].urls || [];
        if (urls[target.index]) { window.location.href = urls[target.index]; }
      },
      onHover: function (event, elements) {
        event.native.target.style.cursor = elements.length ? "pointer" : "default";
      }
    };
    if (chart.type !== "doughnut") {
      var valueAxis = { beginAtZero: true, ticks: { callback: format, precision: 0 } };
      if (chart.percent) { valueAxis.max = 100; }
      options.scales = {};
      if (chart.horizontal) {
        options.indexAxis = "y";
        options.scales.x = valueAxis;
      } else {
        options.scales.y = valueAxis;
      }
      if (chart.dual) {
        options.scales.y1 = {
          beginAtZero: true, max: 100, position: "right", grid: { drawOnChartArea: false },
          ticks: { callback: function (value) { return value + " %"; } }
        };
      }
    }
    return new window.Chart(canvas, { type: chart.type, data: { labels: chart.labels, datasets: datasets }, options: options });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("dashboard-charts");
    if (!source || !window.Chart) { return; }
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = charts[canvas.getAttribute("data-chart")];
      if (chart) { build(canvas, chart); }
    });
  });
})();
