// Field kit: offline actions. Each action is one envelope (docs/field-envelopes.md) written in the
// same IndexedDB transaction as its effect on the local data: both happen or neither. The same
// `apply` functions replay the envelopes the server has not integrated yet over each new
// snapshot, so the agent keeps seeing their changes until the server's data includes them.
(function (FK) {
  "use strict";
  const db = FK.db;
  const TABLES = ["meta", "restaurants", "visits", "outbox"];

  async function findRestaurant(entity) {
    if (entity.id !== null && entity.id !== undefined) {
      const byId = await db.restaurants.get("r" + entity.id);
      if (byId) { return byId; }
    }
    if (entity.client_id) {
      return db.restaurants.where("client_id").equals(entity.client_id).first();
    }
    return undefined;
  }
  FK.findRestaurant = findRestaurant;

  async function applyVisit(envelope) {
    const restaurant = await findRestaurant(envelope.entity);
    const payload = envelope.payload;
    const key = restaurant ? restaurant.key : FK.restaurantKey(envelope.entity);
    await db.visits.put({
      key: "e" + envelope.name,
      id: null,
      restaurant_key: key,
      restaurant_id: envelope.entity.id,
      date: payload.date,
      kind: payload.kind,
      report: payload.report,
      origin: "",
      agent: envelope.agent,
      while_prospect: envelope.entity.kind === "prospect",
      pack: payload.pack_offered,
      segment: restaurant ? restaurant.segment : null,
      envelope: envelope.name
    });
    if (!restaurant) { return; }
    const changes = {};
    // As online: the last visit never moves back; a revisit date given replaces the old one.
    const visitedAt = payload.date + "T12:00:00";
    if (!restaurant.last_visit_at || FK.localDay(restaurant.last_visit_at) < payload.date) {
      changes.last_visit_at = visitedAt;
    }
    if (payload.revisit_date) { changes.revisit_date = payload.revisit_date; }
    if (Object.keys(changes).length) { await db.restaurants.update(restaurant.key, changes); }
  }

  async function applyProspectCreate(envelope) {
    const record = Object.assign({}, envelope.payload.fields, {
      id: null,
      client_id: envelope.entity.client_id,
      kind: "prospect",
      status: "prospect",
      assigned: true,
      updated_at: null,
      last_visit_at: null,
      revisit_date: null,
      conversion_pending: false
    });
    record.key = FK.restaurantKey(record);
    await db.restaurants.put(record);
  }

  async function applyProspectUpdate(envelope) {
    const restaurant = await findRestaurant(envelope.entity);
    if (restaurant) { await db.restaurants.update(restaurant.key, envelope.payload.fields); }
  }

  async function applyProspectDelete(envelope) {
    const restaurant = await findRestaurant(envelope.entity);
    if (restaurant) { await db.restaurants.delete(restaurant.key); }
  }

  async function applyConversion(envelope) {
    const restaurant = await findRestaurant(envelope.entity);
    if (restaurant) {
      await db.restaurants.update(restaurant.key, Object.assign({}, envelope.payload.fields, {
        payment_mode: envelope.payload.payment_mode,
        payment_days: envelope.payload.payment_days,
        conversion_pending: true
      }));
    }
  }

  const APPLY = {
    "visit": applyVisit,
    "prospect-visit": applyVisit,
    // A change request changes nothing until the accountant applies it.
    "change-request": async function () {},
    "prospect-create": applyProspectCreate,
    "prospect-update": applyProspectUpdate,
    "prospect-delete": applyProspectDelete,
    "conversion-request": applyConversion
  };
  FK.applyEnvelope = function (envelope) {
    const apply = APPLY[envelope.action];
    return apply ? apply(envelope) : Promise.resolve();
  };

  function safePart(text, size) {
    return String(text).replace(/[^A-Za-z0-9-]/g, "-").slice(0, size);
  }

  FK.entityOf = function (restaurant) {
    return {
      kind: restaurant.kind === "client" ? "client" : "prospect",
      id: restaurant.id === undefined ? null : restaurant.id,
      client_id: restaurant.client_id || null
    };
  };

  // Record one action: its envelope and its local effect in one transaction.
  // `entity` is {kind, id, client_id}; `baseVersion` the prospect's updated_at for updates and
  // deletions. Resolves to the envelope.
  FK.perform = async function (action, entity, payload, baseVersion) {
    // Hashing and the clock come first: a transaction awaiting anything but IndexedDB would
    // commit early.
    const hash = await FK.sha256(FK.canonical(payload));
    const created = new Date(FK.now());
    const snapshot = FK.state.snapshot;
    const agent = FK.config.agent;
    const envelope = await db.transaction("rw", TABLES, async () => {
      const device = await FK.meta.get("device");
      const seq = (await FK.meta.get("seq", 0)) + 1;
      await FK.meta.put("seq", seq);
      const random = FK.randomPart(12);
      const fixed = FK.utcStamp(created).length + device.length + 6 + action.length + random.length + 5;
      const name = [FK.utcStamp(created), safePart(agent, 120 - fixed), device,
        String(seq).padStart(6, "0"), action, random].join("_");
      const made = {
        name: name,
        schema: 1,
        action: action,
        agent: agent,
        device: device,
        seq: seq,
        created_at: FK.utcIso(created),
        snapshot: (snapshot && snapshot.version) || "",
        entity: entity,
        base_version: baseVersion === undefined ? null : baseVersion,
        payload: payload,
        hash: hash
      };
      await FK.applyEnvelope(made);
      await db.outbox.add({ seq: seq, name: name, envelope: made, status: "pending", reason: "" });
      return made;
    });
    FK.changed();
    return envelope;
  };

  // Envelopes the server has not integrated yet (waiting to be sent, or received).
  FK.pendingRows = async function () {
    return (await db.outbox.toArray()).concat(await db.sent.toArray());
  };

  FK.pendingFor = function (rows, restaurant) {
    return rows.filter((row) => {
      const entity = row.envelope.entity;
      return (entity.id !== null && entity.id !== undefined && entity.id === restaurant.id) ||
        (entity.client_id && entity.client_id === restaurant.client_id);
    });
  };

  // Listeners re-render after any change of the local data.
  const listeners = [];
  FK.onChange = function (listener) { listeners.push(listener); };
  FK.changed = function () { listeners.forEach((listener) => listener()); };
})(window.FieldKit = window.FieldKit || {});
