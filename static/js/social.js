// Charts of a restaurant's social page, drawn from the JSON the server put in #social-data.
(function () {
  "use strict";
  var COLOURS = ["#1f4e79", "#f0b429", "#198754", "#dc3545", "#6f42c1", "#0dcaf0"];
  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("social-data");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    data.charts.forEach(function (chart) {
      var canvas = document.getElementById("chart-" + chart.key);
      if (!canvas) { return; }
      new window.Chart(canvas, {
        type: chart.key === "actions" ? "bar" : "line",
        data: {
          labels: data.labels,
          datasets: chart.datasets.map(function (dataset, index) {
            return {
              label: dataset.label,
              data: dataset.data,
              borderColor: COLOURS[index % COLOURS.length],
              backgroundColor: COLOURS[index % COLOURS.length],
              spanGaps: true,
              pointRadius: data.labels.length > 60 ? 0 : 2
            };
          })
        },
        options: {
          responsive: true,
          animation: false,
          scales: { x: { stacked: chart.key === "actions" }, y: { beginAtZero: true, stacked: chart.key === "actions" } }
        }
      });
    });
    var reviews = document.getElementById("chart-reviews");
    if (reviews) {
      new window.Chart(reviews, {
        data: {
          labels: data.reviews.labels,
          datasets: [
            { type: "bar", label: data.labels_text.reviews, data: data.reviews.count, backgroundColor: COLOURS[0], yAxisID: "y" },
            { type: "bar", label: data.labels_text.posts, data: data.posts, backgroundColor: COLOURS[2], yAxisID: "y" },
            { type: "line", label: data.labels_text.rating, data: data.reviews.rating, borderColor: COLOURS[1], backgroundColor: COLOURS[1], yAxisID: "y1", spanGaps: true }
          ]
        },
        options: {
          responsive: true,
          animation: false,
          scales: { y: { beginAtZero: true }, y1: { min: 1, max: 5, position: "right", grid: { drawOnChartArea: false } } }
        }
      });
    }
  });
})();
