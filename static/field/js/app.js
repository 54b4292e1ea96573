// Field kit: start-up, the service worker, the router (#/route/argument), the status bar and the
// freshness indicator. Loaded last.
(function (FK) {
  "use strict";
  const SYNC_EVERY = 2 * 60 * 1000;
  const routes = FK.routes;

  function currentRoute() {
    const parts = (window.location.hash.replace(/^#\/?/, "") || "home").split("/");
    return { name: parts[0] || "home", args: parts.slice(1).map(decodeURIComponent) };
  }

  // The section a route shows; the restaurant card serves clients and prospects alike.
  const SECTIONS = { client: "restaurant", prospect: "restaurant", "prospect-new": "prospect-form", "prospect-edit": "prospect-form" };

  let rendering = Promise.resolve();
  FK.render = function () {
    rendering = rendering.then(renderNow, renderNow);
    return rendering;
  };

  async function renderNow() {
    const route = currentRoute();
    const render = routes[route.name] ? route : { name: "home", args: [] };
    const section = SECTIONS[render.name] || render.name;
    FK.$$("[data-route]").forEach((element) => {
      element.hidden = element.dataset.route !== section;
      element.removeAttribute("data-drawn");
    });
    FK.$$("[data-nav]").forEach((link) => {
      const active = link.dataset.nav === render.name || (render.name === "client" && link.dataset.nav === "clients") ||
        (render.name.startsWith("prospect") && link.dataset.nav === "prospects");
      link.classList.toggle("active", active);
      if (active) { link.setAttribute("aria-current", "page"); } else { link.removeAttribute("aria-current"); }
    });
    document.body.classList.toggle("field-stats-page", section === "stats");
    FK.show(FK.$("[data-empty-state]"), !FK.state.snapshot && section !== "outbox");
    try {
      await routes[render.name](render.args);
    } catch (error) {
      console.warn("field kit: could not draw the page", error);
    }
    await renderStatus();
    // Whoever waits for the page (the browser tests among others) knows it is complete.
    FK.$("[data-route=\"" + section + "\"]").dataset.drawn = window.location.hash || "#/";
  }

  // --- Status bar, freshness, warnings -------------------------------------------------------

  async function renderStatus() {
    const online = navigator.onLine;
    const network = FK.$("[data-network]");
    network.className = "badge " + (online ? "text-bg-success" : "text-bg-secondary");
    network.dataset.online = online ? "yes" : "no";
    network.textContent = FK.status.busy ? FK.t("Synchronising…") : online ? FK.t("Online") : FK.t("Offline");

    FK.$$("[data-online-only]").forEach((link) => link.classList.toggle("disabled", !online));
    const pending = await FK.db.outbox.count();
    FK.$$("[data-outbox-count]").forEach((badge) => { badge.textContent = String(pending); });
    FK.show(FK.$("[data-login-needed]"), FK.status.loginNeeded);
    const error = FK.$("[data-sync-error]");
    error.textContent = FK.status.error;
    FK.show(error, Boolean(FK.status.error));

    const refused = await FK.db.outbox.where("seq").above(0).filter((row) => row.status === "refused").count();
    const rejected = await FK.db.rejected.filter((row) => !row.seen).count();
    const refusals = FK.$("[data-refusals]");
    FK.show(refusals, refused + rejected > 0);
    FK.$("[data-refusals-text]").textContent = FK.tn("%(count)s change was refused by the server.", refused + rejected);

    renderFreshness();
    // For whoever waits on a synchronisation (the browser tests among others): set last, once the
    // outbox count and the refusals above show the synchronisation's outcome.
    document.body.dataset.syncState = FK.status.busy ? "busy" : "idle";
    document.body.dataset.syncRuns = String(FK.status.runs);
  }
  FK.renderStatus = renderStatus;

  function renderFreshness() {
    const box = FK.$("[data-freshness]");
    const fresh = FK.freshness();
    box.dataset.state = fresh.state;
    box.classList.toggle("alert", fresh.state === "stale");
    box.classList.toggle("alert-danger", fresh.state === "stale");
    box.classList.toggle("py-2", fresh.state === "stale");
    const text = FK.$("[data-freshness-text]", box);
    if (fresh.state === "none") {
      text.textContent = FK.t("No data loaded yet.");
    } else if (fresh.state === "fresh") {
      text.textContent = FK.t("Data up to date (%(date)s).", { date: FK.formatDateTime(fresh.generatedAt) });
    } else {
      text.textContent = FK.t("Data of %(date)s.", { date: FK.formatDateTime(fresh.generatedAt) }) + " " +
        FK.t("Your data is not up to date, please connect to refresh it.");
    }
    FK.show(FK.$("[data-freshness-refresh]", box), fresh.state !== "fresh");
    FK.saveClock().catch((error) => console.warn("field kit: clock not saved", error));
  }

  async function checkPersistence() {
    if (!navigator.storage || !navigator.storage.persist) {
      FK.show(FK.$("[data-storage-warning]"), true);
      return;
    }
    let granted = await navigator.storage.persisted();
    if (!granted) {
      try { granted = await navigator.storage.persist(); } catch (error) { granted = false; }
    }
    FK.show(FK.$("[data-storage-warning]"), !granted);
  }

  // --- Service worker ------------------------------------------------------------------------

  // The manifest link is added only online: Chromium fetches the manifest around the service
  // worker, and installing the kit needs the network anyway.
  function linkManifest() {
    if (!navigator.onLine || FK.$("link[rel=manifest]")) { return; }
    document.head.append(FK.el("link", { rel: "manifest", href: FK.config.urls.manifest }));
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.register(FK.config.urls.worker, { scope: FK.config.urls.shell })
      .catch((error) => console.warn("field kit: service worker not registered", error));
  }

  // Asks the service worker to fetch `url` from the network itself: offline, it must fail.
  FK.probe = function (url) {
    return navigator.serviceWorker.ready.then((registration) => new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(event.data);
      registration.active.postMessage({ type: "probe", url: url }, [channel.port2]);
    }));
  };

  // --- Start ---------------------------------------------------------------------------------

  async function start() {
    registerWorker();
    linkManifest();
    await FK.loadState();
    const last = await FK.meta.get("last_sync", null);
    FK.status.lastSync = last ? new Date(last) : null;
    // A synchronisation in the background redraws the page, except a form being filled in.
    FK.onChange(() => {
      const editing = ["prospect-new", "prospect-edit", "convert"].includes(currentRoute().name);
      FK.loadState().then(editing ? renderStatus : FK.render);
    });
    window.addEventListener("hashchange", FK.render);
    window.addEventListener("online", () => { linkManifest(); FK.renderStatus(); FK.sync(); });
    window.addEventListener("offline", () => { FK.renderStatus(); });
    document.addEventListener("click", (event) => {
      if (event.target.closest("[data-sync]")) { event.preventDefault(); FK.sync(); }
      if (event.target.closest("[data-export]")) { event.preventDefault(); FK.exportPending(); }
    });
    setInterval(() => { if (navigator.onLine) { FK.sync(); } }, SYNC_EVERY);
    // The indicator turns red by itself when the limit passes.
    setInterval(renderFreshness, 30 * 1000);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) { renderFreshness(); } });
    checkPersistence();
    await FK.render();
    document.body.dataset.fieldReady = "yes";
    if (navigator.onLine) { FK.sync(); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    start().catch((error) => {
      console.warn("field kit: start failed", error);
      const box = FK.$("[data-sync-error]");
      box.textContent = FK.t("The field kit could not open its local data: %(error)s", { error: String(error && error.message || error) });
      box.hidden = false;
    });
  });
})(window.FieldKit = window.FieldKit || {});
