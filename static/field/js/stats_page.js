// Field kit: the statistics page, drawn like /stats/field/ (same layout and print stylesheet,
// static/css/field_stats.css) from the figures FK.computeStats makes on this device. Before
// printing, each chart is redrawn at the print size the stylesheet declares, and back after.
(function (FK) {
  "use strict";
  const MM = 96 / 25.4;
  const PALETTE = ["#1f5f8b", "#f0a202", "#3a9d5d", "#c2412d", "#7b5ea7", "#5c6b73", "#2aa6a1"];
  let charts = [];

  function bars(canvas, labels, series, stack, legend) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: series.map((one, index) => ({ label: one.label, data: one.data, backgroundColor: PALETTE[index % PALETTE.length] }))
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: legend && series.length > 0, position: "bottom", labels: { boxWidth: 10 } } },
        scales: { x: { stacked: stack }, y: { stacked: stack, beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  function coverage(canvas, stats) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: [FK.t("Clients"), FK.t("Prospects")],
        datasets: [{ label: FK.t("Share visited (%)"), data: [stats.clients.share || 0, stats.prospects.share || 0], backgroundColor: [PALETTE[0], PALETTE[1]] }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, max: 100, ticks: { callback: (value) => value + " %" } } }
      }
    });
  }

  function money(centsValue) {
    return (centsValue / 100).toFixed(2) + " €";
  }

  function share(bucket) {
    // One decimal, as the server's page prints it.
    return bucket.share === null ? "—" : bucket.share.toFixed(1) + " %";
  }

  function monthLabel(month) {
    return month.slice(5, 7) + "/" + month.slice(2, 4);
  }

  function monthYear(month) {
    return month.slice(5, 7) + "/" + month.slice(0, 4);
  }

  function printSize(chart) {
    const style = window.getComputedStyle(chart.canvas.parentNode);
    const width = parseFloat(style.getPropertyValue("--print-width"));
    const height = parseFloat(style.getPropertyValue("--print-height"));
    return width && height ? { width: Math.floor(width * MM), height: Math.floor(height * MM) } : null;
  }

  function beforePrint() {
    charts.forEach((chart) => { const size = printSize(chart); if (size) { chart.resize(size.width, size.height); } });
  }

  function afterPrint() {
    charts.forEach((chart) => chart.resize());
  }

  FK.route("stats", async function () {
    const form = FK.$("[data-stats-form]");
    const period = FK.statsPeriod(form.elements.from.value, form.elements.to.value, FK.today());
    form.elements.from.value = period.start.slice(0, 7);
    form.elements.to.value = period.last.slice(0, 7);
    const stats = FK.computeStats(period, await FK.statsRows());
    const agent = (FK.state.snapshot && FK.state.snapshot.agent && FK.state.snapshot.agent.name) || FK.config.agentName;
    FK.$("[data-stats-subject]").textContent = FK.t("%(agent)s, from %(start)s to %(end)s", {
      agent: agent, start: monthYear(period.start), end: monthYear(period.last)
    });
    const shortened = FK.$("[data-stats-shortened]");
    shortened.hidden = !period.shortened;
    shortened.textContent = FK.tn("Only the last %(count)s month of the period are shown.", period.months.length);
    const figure = (name, text) => { FK.$("[data-figure=\"" + name + "\"]").textContent = text; };
    figure("visits", String(stats.visitsTotal));
    figure("visits-split", FK.t("%(clients)s to clients, %(prospects)s to prospects", { clients: stats.clientVisits, prospects: stats.prospectVisits }));
    figure("proposals", String(stats.proposalsTotal));
    figure("invoiced", money(stats.invoicedTotalCents));
    figure("contracts", String(stats.contractsSigned));
    figure("contracts-value", FK.t("%(monthly)s € a month, %(value)s € in all", {
      monthly: (stats.newMonthlyCents / 100).toFixed(2), value: (stats.contractValueCents / 100).toFixed(2)
    }));
    figure("clients-share", share(stats.clients));
    figure("clients-count", FK.t("%(visited)s of %(total)s", stats.clients));
    figure("prospects-share", share(stats.prospects));
    figure("prospects-count", FK.t("%(visited)s of %(total)s", stats.prospects));
    const fresh = FK.freshness();
    FK.$("[data-stats-data-date]").textContent = fresh.generatedAt ? FK.t("Data of %(date)s.", { date: FK.formatDateTime(fresh.generatedAt) }) : "";

    charts.forEach((chart) => chart.destroy());
    charts = [];
    if (!window.Chart) { return; }
    const labels = stats.months.map(monthLabel);
    const series = (list) => list.map((one) => ({ label: one.label, data: one.values }));
    charts = [
      bars(document.getElementById("field-fs-visits"), labels, series(stats.visits), true, true),
      coverage(document.getElementById("field-fs-coverage"), stats),
      bars(document.getElementById("field-fs-proposals"), labels, series(stats.proposals), true, true),
      bars(document.getElementById("field-fs-revenue"), labels, [{ label: FK.t("Invoiced (€)"), data: stats.invoicedCents.map((value) => value / 100) }], false, false)
    ];
  });

  document.addEventListener("DOMContentLoaded", () => {
    FK.$("[data-stats-form]").addEventListener("submit", (event) => { event.preventDefault(); FK.render(); });
    FK.$("[data-route=stats] [data-print]").addEventListener("click", () => window.print());
    window.addEventListener("beforeprint", beforePrint);
    window.addEventListener("afterprint", afterPrint);
    // Print emulation (and browsers that skip the events) switch the media query instead.
    window.matchMedia("print").addEventListener("change", (event) => {
      if (event.matches) { beforePrint(); } else { afterPrint(); }
    });
  });
})(window.FieldKit = window.FieldKit || {});
