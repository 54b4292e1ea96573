// Charts of the KPI page, drawn from the JSON the server put in #kpi-data.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("kpi-data");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var brand = "#1f4e79";
    new window.Chart(document.getElementById("kpi-months"), {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: data.contracts_label, data: data.contracts, backgroundColor: brand, yAxisID: "y" },
          { type: "line", label: data.mrr_label, data: data.mrr, borderColor: "#f0b429", backgroundColor: "#f0b429", yAxisID: "y1" }
        ]
      },
      options: {
        responsive: true,
        scales: { y: { beginAtZero: true, position: "left" }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } }
      }
    });
    new window.Chart(document.getElementById("kpi-packs"), {
      type: "doughnut",
      data: { labels: data.packs, datasets: [{ data: data.pack_counts, backgroundColor: [brand, "#f0b429", "#198754", "#6c757d", "#0dcaf0"] }] },
      options: { responsive: true }
    });
  });
})();
