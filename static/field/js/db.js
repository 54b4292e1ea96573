// Field kit: the local database (IndexedDB through Dexie), one per agent, and the server-aligned
// clock. Tables:
//   meta         key/value: device id, last seq, the snapshot's small parts, clock offset
//   restaurants  clients and prospects; key "r<server id>", or "u<client_id>" for a prospect
//                created here and not integrated yet
//   visits       done visits; key "v<server id>", or "e<envelope name>" for one recorded here
//   outbox       envelopes not yet confirmed by the server, by seq
//   sent         envelopes the server confirmed but has not integrated yet (their effect is
//                replayed over each new snapshot until it has)
//   rejected     envelopes the server quarantined, with the reason
(function (FK) {
  "use strict";

  const db = new window.Dexie("comadvisor-field-" + FK.config.agent);
  db.version(1).stores({
    meta: "key",
    restaurants: "key, id, client_id, kind",
    visits: "key, restaurant_key, date, agent, envelope",
    outbox: "seq, name",
    sent: "seq, name",
    rejected: "name"
  });
  FK.db = db;

  FK.meta = {
    async get(key, fallback) {
      const row = await db.meta.get(key);
      return row ? row.value : fallback;
    },
    put(key, value) { return db.meta.put({ key: key, value: value }); }
  };

  FK.restaurantKey = function (record) {
    return record.id !== null && record.id !== undefined ? "r" + record.id : "u" + record.client_id;
  };

  // What the screens read, refreshed after each local change and each snapshot.
  FK.state = { snapshot: null, clockOffset: 0, lastNow: 0, lastPerf: 0 };

  // --- Clock -------------------------------------------------------------------------------
  // The data's age is measured against the server's clock: each answer's Date header gives the
  // device clock's offset, kept with the data, so a device set to a wrong date or time still
  // sees the true age. The age never goes below the generation time.
  //
  // Between two answers the corrected time never goes back: it advances at least as the
  // browser's monotonic clock (performance.now) since it was last read, and jumps ahead with the
  // device clock when that is later (a laptop waking up). A device clock set back after a sync,
  // by mistake or to make old data look fresh, so changes nothing; the highest time seen is kept
  // in IndexedDB, so a restart with the clock set back resumes from it. Only the server's next
  // answer may set it back.

  const CLOCK_SAVE_EVERY = 60 * 1000;
  let clockSavedAt = 0;
  let clockLoaded = false;

  FK.now = function () {
    const perf = performance.now();
    const wall = Date.now() + FK.state.clockOffset;
    const steady = FK.state.lastNow + Math.max(0, perf - FK.state.lastPerf);
    FK.state.lastNow = Math.max(wall, steady);
    FK.state.lastPerf = perf;
    return FK.state.lastNow;
  };

  FK.today = function () {
    return FK.isoDate(new Date(FK.now()));
  };

  function clockRecord(at) {
    return { offset: FK.state.clockOffset, at: at, highest: FK.state.lastNow };
  }

  FK.noteServerTime = async function (response) {
    const header = response.headers.get("Date");
    const server = header ? Date.parse(header) : NaN;
    if (isNaN(server)) { return; }
    FK.state.clockOffset = server - Date.now();
    FK.state.lastNow = server;
    FK.state.lastPerf = performance.now();
    clockSavedAt = server;
    await FK.meta.put("clock", clockRecord(server));
  };

  // Keeps the highest corrected time seen (at most once a minute; called by the freshness
  // indicator's redraws).
  FK.saveClock = async function () {
    const now = FK.now();
    if (Math.abs(now - clockSavedAt) < CLOCK_SAVE_EVERY) { return; }
    clockSavedAt = now;
    const clock = await FK.meta.get("clock", null);
    await FK.meta.put("clock", clockRecord(clock ? clock.at : null));
  };

  FK.loadState = async function () {
    FK.state.snapshot = await FK.meta.get("snapshot", null);
    const clock = await FK.meta.get("clock", null);
    FK.state.clockOffset = clock ? clock.offset : 0;
    if (!clockLoaded) {
      // Once per page: from then on the page's own reading goes on (FK.now).
      clockLoaded = true;
      FK.state.lastNow = Math.max(Date.now() + FK.state.clockOffset, (clock && clock.highest) || 0);
      FK.state.lastPerf = performance.now();
      clockSavedAt = FK.state.lastNow;
    }
    let device = await FK.meta.get("device", null);
    if (!device) {
      device = "dev" + FK.randomHex(8);
      await FK.meta.put("device", device);
    }
    FK.state.device = device;
    return FK.state;
  };

  // The freshness of the local data: {state: "none" | "fresh" | "stale", generatedAt, ageHours}.
  FK.freshness = function () {
    const snapshot = FK.state.snapshot;
    if (!snapshot || !snapshot.generated_at) { return { state: "none" }; }
    const generated = Date.parse(snapshot.generated_at);
    const age = Math.max(0, FK.now() - generated);
    const limit = (snapshot.settings && snapshot.settings.freshness_hours || 24) * 3600000;
    return { state: age < limit ? "fresh" : "stale", generatedAt: generated, ageHours: age / 3600000 };
  };

  FK.lists = function () {
    return (FK.state.snapshot && FK.state.snapshot.lists) || {};
  };

  FK.settings = function () {
    return (FK.state.snapshot && FK.state.snapshot.settings) || {};
  };
})(window.FieldKit = window.FieldKit || {});
