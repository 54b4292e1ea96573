// Field kit: the screens drawn from the local data: home (to revisit, not seen for long), clients
// (wildcard search), the restaurant card, prospects, and the changes made on this device.
(function (FK) {
  "use strict";
  const db = FK.db;
  const el = FK.el;

  FK.actionLabel = function (action) {
    return {
      "visit": FK.t("Visit"),
      "prospect-visit": FK.t("Visit to a prospect"),
      "change-request": FK.t("Modification request"),
      "prospect-create": FK.t("New prospect"),
      "prospect-update": FK.t("Prospect changed"),
      "prospect-delete": FK.t("Prospect deleted"),
      "conversion-request": FK.t("Client creation request")
    }[action] || action;
  };

  FK.cardUrl = function (restaurant) {
    return "#/" + (restaurant.kind === "client" ? "client" : "prospect") + "/" + encodeURIComponent(restaurant.key);
  };

  function fill(tbody, rows, columns, empty) {
    tbody.replaceChildren();
    if (!rows.length) {
      tbody.append(el("tr", {}, el("td", { colspan: columns, className: "text-muted", text: empty })));
    }
    rows.forEach((row) => tbody.append(row));
  }

  // A table row that opens something when clicked or when Enter is pressed on it.
  function selectableRow(cells, onSelect, data) {
    const row = el("tr", { className: "selectable", tabindex: "0", dataset: data || {} });
    cells.forEach((cell) => row.append(cell instanceof Node && cell.tagName === "TD" ? cell : el("td", {}, cell)));
    row.addEventListener("click", (event) => { if (!event.target.closest("a")) { onSelect(row); } });
    row.addEventListener("keydown", (event) => { if (event.key === "Enter") { onSelect(row); } });
    return row;
  }

  function nameLink(restaurant) {
    return el("a", { href: FK.cardUrl(restaurant), text: restaurant.name || "—" });
  }

  function contactBlock(restaurant) {
    const block = el("div", { className: "field-contact" });
    const address = [restaurant.address, restaurant.address_complement,
      [restaurant.postal_code, restaurant.city].filter(Boolean).join(" ")].filter(Boolean);
    if (address.length) { block.append(el("p", { className: "mb-1 text-pre-line", text: address.join("\n") })); }
    if (restaurant.phone) {
      block.append(el("p", { className: "mb-1" }, el("i", { className: "bi bi-telephone me-1", "aria-hidden": "true" }),
        el("a", { href: "tel:" + restaurant.phone, text: restaurant.phone, dataset: { testid: "contact-phone" } })));
    }
    if (restaurant.email) {
      block.append(el("p", { className: "mb-1" }, el("i", { className: "bi bi-envelope me-1", "aria-hidden": "true" }),
        el("a", { href: "mailto:" + restaurant.email, text: restaurant.email })));
    }
    (restaurant.contacts || []).forEach((contact) => {
      block.append(el("p", { className: "mb-1 small" }, el("strong", { text: contact.name }),
        contact.role ? " (" + contact.role + ")" : "",
        contact.phone ? el("span", {}, " · ", el("a", { href: "tel:" + contact.phone, text: contact.phone })) : "",
        contact.email ? el("span", {}, " · ", el("a", { href: "mailto:" + contact.email, text: contact.email })) : ""));
    });
    if (!block.childElementCount) { block.append(el("p", { className: "text-muted mb-0", text: FK.t("No contact details.") })); }
    return block;
  }

  function revenueRows(restaurant) {
    return [
      el("dt", { className: "col-7", text: FK.t("This year") }),
      el("dd", { className: "col-5 text-end", text: FK.formatMoney(restaurant.revenue_this_year), dataset: { figure: "revenue-this-year" } }),
      el("dt", { className: "col-7", text: FK.t("Last year") }),
      el("dd", { className: "col-5 text-end", text: FK.formatMoney(restaurant.revenue_last_year), dataset: { figure: "revenue-last-year" } })
    ];
  }

  // --- Home ----------------------------------------------------------------------------------

  function showSummary(restaurant) {
    const box = FK.$("[data-summary]");
    box.replaceChildren(
      el("h2", { className: "h6" }, nameLink(restaurant), restaurant.code ? " · " + restaurant.code : ""),
      contactBlock(restaurant)
    );
    if (restaurant.kind === "client") {
      box.append(el("h3", { className: "h6 mt-3", text: FK.t("Revenue") }), el("dl", { className: "row mb-0" }, ...revenueRows(restaurant)));
    }
  }

  // "To revisit": a revisit date, soonest first. "Not seen for long": never visited first, then
  // the longest ago (sales/selectors.py's lists, on the local data).
  FK.homeLists = function (restaurants, today) {
    // Ties by server id, as online; prospects not synced yet last.
    const id = (row) => (row.id === null || row.id === undefined ? Number.MAX_SAFE_INTEGER : row.id);
    const byId = (a, b) => id(a) - id(b) || String(a.key).localeCompare(String(b.key));
    const revisit = restaurants.filter((row) => row.revisit_date)
      .sort((a, b) => a.revisit_date.localeCompare(b.revisit_date) || byId(a, b))
      .map((row) => ({ restaurant: row, days: FK.daysBetween(today, row.revisit_date) }));
    const notSeen = restaurants.slice().sort((a, b) => {
      if (!a.last_visit_at || !b.last_visit_at) { return (a.last_visit_at ? 1 : 0) - (b.last_visit_at ? 1 : 0) || byId(a, b); }
      return Date.parse(a.last_visit_at) - Date.parse(b.last_visit_at) || byId(a, b);
    }).map((row) => ({ restaurant: row, days: row.last_visit_at ? FK.daysBetween(FK.localDay(row.last_visit_at), today) : null }));
    return { revisit: revisit, notSeen: notSeen };
  };

  FK.route("home", async function () {
    // As online, the agent's own restaurants: not the zone's clients assigned to a colleague.
    const restaurants = (await db.restaurants.toArray()).filter((row) => row.assigned !== false);
    const lists = FK.homeLists(restaurants, FK.today());
    const row = (item, days, className) => selectableRow([
      item.restaurant.code || "—", nameLink(item.restaurant), item.restaurant.zone || "—",
      el("td", { className: "text-end " + (className || ""), text: days, dataset: { testid: "days" } })
    ], () => showSummary(item.restaurant), { key: item.restaurant.key });
    fill(FK.$("[data-list=revisit]"), lists.revisit.map((item) =>
      row(item, item.days, item.days < 0 ? "text-danger fw-semibold" : "")), 4, FK.t("No revisit planned."));
    // Past the admin's "not seen for long" bound (or never visited), the days stand out.
    const bound = FK.settings().not_seen_days;
    const overdue = (days) => days === null || (bound !== undefined && bound !== null && days >= bound);
    fill(FK.$("[data-list=not-seen]"), lists.notSeen.map((item) =>
      row(item, item.days === null ? FK.t("never") : item.days, overdue(item.days) ? "text-danger fw-semibold" : "")),
    4, FK.t("No restaurant."));
  });

  // --- Clients -------------------------------------------------------------------------------

  FK.searchRestaurants = function (restaurants, query) {
    const pattern = FK.wildcard(query);
    const found = pattern ? restaurants.filter((row) =>
      pattern.test(FK.normalize(row.name)) || (row.code && pattern.test(String(row.code).toLowerCase()))) : restaurants.slice();
    return found.sort((a, b) => FK.normalize(a.name).localeCompare(FK.normalize(b.name)) || String(a.key).localeCompare(String(b.key)));
  };

  async function drawClients() {
    const clients = await db.restaurants.where("kind").equals("client").toArray();
    const query = FK.$("#field-client-q").value;
    const found = FK.searchRestaurants(clients, query);
    const body = FK.$("[data-list=clients]");
    fill(body, found.map((client) => selectableRow(
      [client.code || "—", nameLink(client), client.city || "—", client.zone || "—"],
      () => { window.location.hash = FK.cardUrl(client); }, { key: client.key }
    )), 4, FK.t("No client matches."));
    FK.$("[data-result-count]").textContent = FK.tn("%(count)s client", found.length);
    body.dataset.query = query;
  }

  FK.route("clients", drawClients);

  // --- The restaurant card -------------------------------------------------------------------

  function visitRow(visit, kinds) {
    return el("tr", { dataset: { origin: visit.origin || "", pending: visit.envelope ? "yes" : "no" } },
      el("td", { text: FK.formatDate(visit.date) }),
      el("td", { text: FK.label(kinds, visit.kind) }),
      el("td", { className: "text-pre-line", text: visit.report || "" }),
      el("td", {}, visit.origin || "", visit.envelope ? el("span", { className: "badge text-bg-warning ms-1", text: FK.t("not sent yet") }) : ""));
  }

  async function drawCard(args, kind) {
    const restaurant = await db.restaurants.get(args[0]);
    const section = FK.$("[data-route=restaurant]");
    FK.current = restaurant || null;
    if (!restaurant) {
      FK.$("[data-card-name]", section).textContent = FK.t("This restaurant is not in the data of this device.");
      FK.$$("[data-card-code], [data-action], [data-edit-link], [data-convert-link]", section).forEach((item) => { item.hidden = true; });
      return;
    }
    const lists = FK.lists();
    const isClient = restaurant.kind === "client";
    FK.$$("[data-client-only]", section).forEach((item) => { item.hidden = !isClient; });
    FK.$$("[data-prospect-only]", section).forEach((item) => { item.hidden = isClient || restaurant.conversion_pending; });
    FK.$("[data-action=visit]", section).hidden = false;
    FK.$("[data-back]", section).setAttribute("href", isClient ? "#/clients" : "#/prospects");
    FK.$("[data-card-name]", section).textContent = restaurant.name || "—";
    const code = FK.$("[data-card-code]", section);
    code.textContent = restaurant.code || "";
    code.hidden = !restaurant.code;
    FK.$("[data-card-place]", section).textContent = [restaurant.city, restaurant.zone,
      FK.label(lists.segments, restaurant.segment, "code")].filter((part) => part && part !== "—").join(" · ");
    FK.$("[data-edit-link]", section).setAttribute("href", "#/prospect-edit/" + encodeURIComponent(restaurant.key));
    FK.$("[data-convert-link]", section).setAttribute("href", "#/convert/" + encodeURIComponent(restaurant.key));
    FK.$("[data-card-contact]", section).replaceChildren(contactBlock(restaurant));
    FK.$("[data-card-revenue]", section).replaceChildren(...revenueRows(restaurant));
    FK.show(FK.$("[data-card-conversion]", section), Boolean(restaurant.conversion_pending));

    const revisit = FK.$("[data-card-revisit]", section);
    if (restaurant.revisit_date) {
      const days = FK.daysBetween(FK.today(), restaurant.revisit_date);
      revisit.textContent = FK.formatDate(restaurant.revisit_date) + " · " + FK.tn("in %(count)s day", days);
      revisit.classList.toggle("text-danger", days < 0);
    } else {
      revisit.textContent = FK.t("No revisit planned.");
      revisit.classList.remove("text-danger");
    }
    const assets = FK.$("[data-card-assets]", section);
    assets.replaceChildren();
    (lists.asset_types || []).forEach((type) => {
      assets.append(el("dt", { className: "col-8", text: type.name }),
        el("dd", { className: "col-4 text-end", text: String((restaurant.assets || {})[type.code] || 0) }));
    });
    if (!assets.childElementCount) { assets.append(el("dd", { className: "col-12 text-muted", text: "—" })); }

    const pending = FK.pendingFor(await FK.pendingRows(), restaurant);
    FK.show(FK.$("[data-card-pending]", section), pending.length > 0);
    FK.show(FK.$("[data-card-pending-list]", section), pending.length > 0);
    FK.$("[data-card-pending-items]", section).replaceChildren(...pending.map((row) => el("li", {},
      FK.actionLabel(row.envelope.action) + " · " + FK.formatDateTime(row.envelope.created_at),
      row.status === "refused" ? el("span", { className: "text-danger", text: " · " + FK.t("refused: %(reason)s", { reason: row.reason }) }) : "")));

    const visits = await db.visits.where("restaurant_key").equals(restaurant.key).toArray();
    visits.sort((a, b) => b.date.localeCompare(a.date) || String(b.key).localeCompare(String(a.key)));
    const hidden = new Set(lists.hidden_origins || []);
    const showHidden = FK.$("[data-show-hidden]", section).checked;
    const shown = visits.filter((visit) => showHidden || !hidden.has(visit.origin));
    fill(FK.$("[data-list=visits]", section), shown.map((visit) => visitRow(visit, lists.visit_kinds)), 4, FK.t("No visit yet."));
    const hiddenCount = visits.length - visits.filter((visit) => !hidden.has(visit.origin)).length;
    FK.$("[data-hidden-count]", section).textContent = hiddenCount && !showHidden ? FK.tn("%(count)s visit of a hidden origin.", hiddenCount) : "";
  }

  FK.route("client", (args) => drawCard(args, "client"));
  FK.route("prospect", (args) => drawCard(args, "prospect"));

  // --- Prospects -----------------------------------------------------------------------------

  FK.route("prospects", async function () {
    // The agent's own prospects (not those a colleague shared with them).
    const own = (await db.restaurants.where("kind").equals("prospect").toArray()).filter((row) => row.assigned !== false);
    const prospects = FK.searchRestaurants(own, "");
    const pending = await FK.pendingRows();
    const pick = FK.$("[data-prospect-pick]");
    pick.replaceChildren(el("option", { value: "", text: FK.t("Choose a prospect…") }),
      ...prospects.map((prospect) => el("option", { value: prospect.key, text: prospect.name + (prospect.city ? " (" + prospect.city + ")" : "") })));
    fill(FK.$("[data-list=prospects]"), prospects.map((prospect) => {
      const changes = FK.pendingFor(pending, prospect).length > 0;
      return selectableRow([
        nameLink(prospect), prospect.city || "—", prospect.phone || "—",
        el("td", {},
          changes ? el("span", { className: "badge text-bg-warning", text: FK.t("Changes not yet integrated"), dataset: { testid: "pending-marker" } }) : "",
          prospect.conversion_pending ? el("span", { className: "badge text-bg-info ms-1", text: FK.t("Conversion requested") }) : "")
      ], () => { window.location.hash = FK.cardUrl(prospect); }, { key: prospect.key, pending: changes ? "yes" : "no" });
    }), 4, FK.t("No prospect yet."));
  });

  // --- Changes made on this device -----------------------------------------------------------

  async function restaurantName(envelope) {
    const restaurant = await FK.findRestaurant(envelope.entity);
    if (restaurant) { return restaurant.name; }
    return (envelope.payload.fields && envelope.payload.fields.name) || "—";
  }

  FK.route("outbox", async function () {
    const outbox = await db.outbox.orderBy("seq").toArray();
    const rows = [];
    for (const row of outbox) {
      rows.push(el("tr", { dataset: { name: row.name, status: row.status } },
        el("td", { text: String(row.seq) }),
        el("td", { text: FK.actionLabel(row.envelope.action) }),
        el("td", { text: await restaurantName(row.envelope) }),
        el("td", { text: FK.formatDateTime(row.envelope.created_at) }),
        el("td", {}, row.status === "refused"
          ? el("span", { className: "text-danger", text: FK.t("refused: %(reason)s", { reason: row.reason }) })
          : FK.t("waiting"))));
    }
    fill(FK.$("[data-list=outbox]"), rows, 5, FK.t("Nothing is waiting."));

    const sent = [];
    for (const row of await db.sent.orderBy("seq").toArray()) {
      sent.push(el("tr", { dataset: { name: row.name } }, el("td", { text: String(row.seq) }),
        el("td", { text: FK.actionLabel(row.envelope.action) }), el("td", { text: await restaurantName(row.envelope) }),
        el("td", { text: FK.formatDateTime(row.envelope.created_at) })));
    }
    fill(FK.$("[data-list=sent]"), sent, 4, FK.t("Nothing is waiting."));

    const rejected = [];
    for (const row of await db.rejected.toArray()) {
      rejected.push(el("tr", { dataset: { name: row.name } },
        el("td", { text: FK.actionLabel(row.envelope ? row.envelope.action : row.action || row.name) }),
        el("td", { text: row.envelope ? await restaurantName(row.envelope) : "—" }),
        el("td", { className: "text-danger" }, row.state === "discarded" ? FK.t("Discarded by an administrator:") + " " : "", row.reason),
        el("td", { text: row.at ? FK.formatDateTime(row.at) : "—" })));
    }
    fill(FK.$("[data-list=rejected]"), rejected, 4, FK.t("No change was rejected."));
    // Seen on this page: the warning above every page stops.
    await db.rejected.toCollection().modify({ seen: true });
  });

  document.addEventListener("DOMContentLoaded", () => {
    FK.$("#field-client-q").addEventListener("input", drawClients);
    FK.$("[data-search-form]").addEventListener("submit", (event) => { event.preventDefault(); drawClients(); });
    FK.$("[data-show-hidden]").addEventListener("change", () => FK.render());
    FK.$("[data-prospect-pick]").addEventListener("change", (event) => {
      if (event.target.value) { window.location.hash = "#/prospect/" + encodeURIComponent(event.target.value); }
    });
  });
})(window.FieldKit = window.FieldKit || {});
