// Charts of the field statistics page, drawn from the JSON the server put in #field-stats-data.
// Printing: the charts are redrawn at the print sizes static/css/field_stats.css declares
// (--print-width, --print-height) before the browser lays the page out, and back after.
(function () {
  "use strict";
  var MM = 96 / 25.4; // CSS pixels per millimetre
  var charts = [];

  function bars(canvas, data, series, stack, legend) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: series.map(function (one, index) {
          return { label: one.label, data: one.data, backgroundColor: data.palette[index % data.palette.length] };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: legend && series.length > 0, position: "bottom", labels: { boxWidth: 10 } } },
        scales: {
          x: { stacked: stack },
          y: { stacked: stack, beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }

  function coverage(canvas, data) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.coverage.labels,
        datasets: [{ label: data.coverage.label, data: data.coverage.data, backgroundColor: [data.palette[0], data.palette[1]] }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, max: 100, ticks: { callback: function (value) { return value + " %"; } } } }
      }
    });
  }

  function printSize(chart) {
    var style = window.getComputedStyle(chart.canvas.parentNode);
    var width = parseFloat(style.getPropertyValue("--print-width"));
    var height = parseFloat(style.getPropertyValue("--print-height"));
    return width && height ? { width: Math.floor(width * MM), height: Math.floor(height * MM) } : null;
  }

  function beforePrint() {
    charts.forEach(function (chart) {
      var size = printSize(chart);
      if (size) { chart.resize(size.width, size.height); }
    });
  }

  function afterPrint() {
    charts.forEach(function (chart) { chart.resize(); });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("field-stats-data");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    charts = [
      bars(document.getElementById("fs-visits"), data, data.visits, true, true),
      coverage(document.getElementById("fs-coverage"), data),
      bars(document.getElementById("fs-proposals"), data, data.proposals, true, true),
      bars(document.getElementById("fs-revenue"), data, data.revenue, false, false)
    ];
    window.addEventListener("beforeprint", beforePrint);
    window.addEventListener("afterprint", afterPrint);
    // Print emulation (and browsers that skip the events) switch the media query instead.
    var print = window.matchMedia("print");
    print.addEventListener("change", function (event) {
      if (event.matches) { beforePrint(); } else { afterPrint(); }
    });
  });
})();
