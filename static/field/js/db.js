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
  FK.state = { snapshot: null, clockOffset: 0, lastNow: 0 };

  // --- Clock -------------------------------------------------------------------------------
  // The data's age is measured against the server's clock: each answer's Date header gives the
  // device clock's offset, kept with the data, so a device set to a wrong date or time still
  // sees the true age. The age never goes below the generation time.

  FK.now = function () {
    return Date.now() + FK.state.clockOffset;
  };

  FK.today = function () {
    return FK.isoDate(new Date(FK.now()));
  };

  FK.noteServerTime = async function (response) {
    const header = response.headers.get("Date");
    const server = header ? Date.parse(header) : NaN;
    if (isNaN(server)) { return; }
    FK.state.clockOffset = server - Date.now();
    await FK.meta.put("clock", { offset: FK.state.clockOffset, at: server });
  };

  FK.loadState = async function () {
    FK.state.snapshot = await FK.meta.get("snapshot", null);
    const clock = await FK.meta.get("clock", null);
    FK.state.clockOffset = clock ? clock.offset : 0;
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
