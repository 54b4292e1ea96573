// Field kit: synchronisation. Sends the outbox (an envelope leaves it only when the server answers
// "received" or "duplicate", or when a snapshot shows it integrated), then loads the snapshot if a
// newer one exists. Runs at start, when the network comes back, on a timer and on the buttons; one
// run at a time across the agent's tabs.
(function (FK) {
  "use strict";
  const db = FK.db;
  const BATCH = 200;

  FK.status = { busy: false, error: "", loginNeeded: false, lastSync: null, offline: false, runs: 0 };

  class LoginNeeded extends Error {}
  class ServerError extends Error {}

  function isLogin(response) {
    return response.redirected && new URL(response.url).pathname.startsWith(FK.config.urls.login);
  }

  function check(response) {
    if (isLogin(response) || response.status === 401) { throw new LoginNeeded(); }
    if (response.status === 403) {
      throw new ServerError(FK.t("The server refused the access (403): is your account still a sales agent's?"));
    }
    if (!response.ok && response.status !== 304) {
      throw new ServerError(FK.t("The server answered with an error (%(status)s): your changes stay on this device and will be sent again.", { status: response.status }));
    }
    return response;
  }

  async function refreshCsrfCookie() {
    // Fetching a page sets the CSRF cookie again (it may have been cleared).
    await fetch(FK.config.urls.shell, { credentials: "same-origin", cache: "no-store" });
  }

  async function post(url, body) {
    const send = () => fetch(url, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": FK.cookie(FK.config.csrfCookie)
      },
      body: JSON.stringify(body)
    });
    let response = await send();
    if (response.status === 403 && !isLogin(response)) {
      await refreshCsrfCookie();
      response = await send();
    }
    return check(response);
  }

  async function sendOutbox() {
    const rows = await db.outbox.orderBy("seq").toArray();
    for (let start = 0; start < rows.length; start += BATCH) {
      const batch = rows.slice(start, start + BATCH);
      const response = await post(FK.config.urls.envelopes, { envelopes: batch.map((row) => row.envelope) });
      await FK.noteServerTime(response);
      const body = await response.json();
      const results = new Map((body.results || []).map((result) => [result.name, result]));
      const now = FK.utcIso(new Date(FK.now()));
      await db.transaction("rw", db.outbox, db.sent, async () => {
        for (const row of batch) {
          const result = results.get(row.name);
          if (!result) { continue; }
          if (result.status === "received" || result.status === "duplicate") {
            await db.outbox.delete(row.seq);
            await db.sent.put({ seq: row.seq, name: row.name, envelope: row.envelope, received_at: now });
          } else if (result.status === "refused") {
            await db.outbox.update(row.seq, { status: "refused", reason: result.reason || "" });
          }
        }
      });
    }
  }

  // Replace the local data with the snapshot, then replay the changes it does not hold yet.
  async function applySnapshot(data, etag) {
    if (data.agent && data.agent.code && data.agent.code !== FK.config.agent) {
      throw new ServerError(FK.t("The data received belongs to another agent; it was not loaded."));
    }
    const device = FK.state.device;
    const integrated = (data.devices || {})[device] || 0;
    // Numbers an administrator gave up waiting for: the server never received them.
    const givenUp = new Set((data.skipped || {})[device] || []);
    const rejectedByName = new Map((data.rejected || []).map((item) => [item.name, item]));
    const tables = ["meta", "restaurants", "visits", "outbox", "sent", "rejected"];
    await db.transaction("rw", tables, async () => {
      await db.restaurants.clear();
      await db.visits.clear();
      const restaurants = (data.clients || []).map((row) => Object.assign({}, row, { kind: "client" }))
        .concat((data.prospects || []).map((row) => Object.assign({}, row, { kind: "prospect" })));
      restaurants.forEach((row) => { row.key = FK.restaurantKey(row); });
      await db.restaurants.bulkPut(restaurants);
      await db.visits.bulkPut((data.visits || []).map((row) => Object.assign({}, row, {
        key: "v" + row.id, restaurant_key: "r" + row.restaurant_id, envelope: null
      })));

      const previous = new Map((await db.rejected.toArray()).map((row) => [row.name, row]));
      const local = new Map();
      const replay = [];
      const lost = [];
      for (const table of [db.sent, db.outbox]) {
        for (const row of await table.toArray()) {
          local.set(row.name, row);
          // Integrated or quarantined: the snapshot holds its outcome.
          if (row.seq <= integrated || rejectedByName.has(row.name)) {
            await table.delete(row.seq);
            // Never received, its number given up: it has no outcome on the server, it is
            // listed with the rejected ones rather than dropped without a word.
            if (table === db.outbox && givenUp.has(row.seq) && !rejectedByName.has(row.name)) { lost.push(row); }
          } else { replay.push(row); }
        }
      }
      await db.rejected.clear();
      for (const item of rejectedByName.values()) {
        const known = local.get(item.name) || previous.get(item.name);
        await db.rejected.put({
          name: item.name, action: item.action || "", state: item.state || "", reason: item.reason || "", at: item.at || "",
          envelope: known ? known.envelope : null,
          seen: Boolean(previous.get(item.name) && previous.get(item.name).seen)
        });
      }
      // The server knows nothing of these: they stay listed from one snapshot to the next.
      for (const row of previous.values()) {
        if (row.state === "given_up" && !rejectedByName.has(row.name)) { await db.rejected.put(row); }
      }
      const now = FK.utcIso(new Date(FK.now()));
      for (const row of lost) {
        await db.rejected.put({
          name: row.name, action: row.envelope.action, state: "given_up", at: now, envelope: row.envelope, seen: false,
          reason: FK.t("An administrator stopped waiting for this change, which never reached the server: it was not applied.")
        });
      }
      replay.sort((a, b) => a.seq - b.seq);
      for (const row of replay) { await FK.applyEnvelope(row.envelope); }

      if ((await FK.meta.get("seq", 0)) < integrated) { await FK.meta.put("seq", integrated); }
      const kept = {};
      ["version", "generated_at", "agent", "settings", "lists", "visit_form", "devices", "stats"]
        .forEach((key) => { kept[key] = data[key]; });
      kept.version = etag || data.version || "";
      kept.received_at = FK.utcIso(new Date(FK.now()));
      await FK.meta.put("snapshot", kept);
    });
    FK.state.snapshot = await FK.meta.get("snapshot");
  }
  FK.applySnapshot = applySnapshot;

  async function fetchSnapshot() {
    const headers = { "Accept": "application/json" };
    const current = FK.state.snapshot;
    if (current && current.version) { headers["If-None-Match"] = current.version; }
    const response = check(await fetch(FK.config.urls.snapshot, {
      credentials: "same-origin", cache: "no-store", headers: headers
    }));
    await FK.noteServerTime(response);
    if (response.status === 304) { return false; }
    await applySnapshot(await response.json(), response.headers.get("ETag"));
    return true;
  }

  async function run() {
    FK.status.busy = true;
    FK.status.error = "";
    FK.renderStatus();
    try {
      await sendOutbox();
      await fetchSnapshot();
      FK.status.loginNeeded = false;
      FK.status.offline = false;
      FK.status.lastSync = new Date(FK.now());
      await FK.meta.put("last_sync", FK.utcIso(FK.status.lastSync));
    } catch (error) {
      if (error instanceof LoginNeeded) { FK.status.loginNeeded = true; }
      else if (error instanceof ServerError) { FK.status.error = error.message; }
      // A fetch that could not reach the server: nothing to report, the outbox waits.
      else if (error instanceof TypeError) { FK.status.offline = true; }
      else { FK.status.error = FK.t("The synchronisation failed: %(error)s", { error: String(error && error.message || error) }); }
    } finally {
      FK.status.busy = false;
      FK.status.runs += 1;
      FK.changed();
    }
  }

  let running = null;
  FK.sync = function () {
    if (running) { return running; }
    const lock = "comadvisor-field-sync-" + FK.config.agent;
    running = (navigator.locks ? navigator.locks.request(lock, run) : run())
      .finally(() => { running = null; });
    return running;
  };

  // "Export pending changes": the outbox as one file, the body the API takes, for the drop folder.
  FK.exportPending = async function () {
    const rows = await db.outbox.orderBy("seq").toArray();
    if (!rows.length) { return null; }
    const agent = String(FK.config.agent).replace(/[^A-Za-z0-9-]/g, "-");
    const name = agent + "_" + FK.state.device + "_" + rows[0].seq + "-" + rows[rows.length - 1].seq + ".json";
    const body = JSON.stringify({ envelopes: rows.map((row) => row.envelope) }, null, 1);
    const url = URL.createObjectURL(new Blob([body], { type: "application/json" }));
    const link = FK.el("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    return name;
  };
})(window.FieldKit = window.FieldKit || {});
