// Field kit: the forms that make envelopes: "visit today" (the admin's question tree), the
// modification request, the prospect form (create, edit, delete) and the client creation request.
(function (FK) {
  "use strict";
  const el = FK.el;

  // Prospect fields when the snapshot does not list them (older server).
  const DEFAULT_PROSPECT_FIELDS = ["name", "address", "address_complement", "postal_code", "city",
    "country", "phone", "email", "website", "siret", "vat_number", "segment"];
  const INPUT_TYPES = { email: "email", phone: "tel", website: "url", revisit_date: "date", payment_days: "number" };
  // Fields whose empty value is null rather than "" (field/prospects.py json_value).
  const NULLABLE = ["segment", "revisit_date", "payment_days", "payment_mode"];

  function modal(id) { return window.bootstrap.Modal.getOrCreateInstance(document.getElementById(id)); }

  // Bootstrap ignores hide() while a dialog is still opening (a quick save right after opening
  // it): the dialog keeps its "show" class then, and is closed as soon as it has opened.
  function closeModal(id) {
    const element = document.getElementById(id);
    modal(id).hide();
    if (element.classList.contains("show")) {
      element.addEventListener("shown.bs.modal", () => modal(id).hide(), { once: true });
    }
  }

  function showErrors(form, errors) {
    FK.$$(".is-invalid", form).forEach((input) => input.classList.remove("is-invalid"));
    FK.$$("[data-error-for]", form).forEach((box) => { box.textContent = ""; box.classList.remove("d-block"); });
    const general = [];
    Object.entries(errors).forEach(([name, message]) => {
      const box = FK.$("[data-error-for=\"" + name + "\"]", form);
      const input = form.elements[name];
      if (input && input.classList) { input.classList.add("is-invalid"); }
      if (box) { box.textContent = message; box.classList.add("d-block"); } else { general.push(message); }
    });
    const summary = FK.$("[data-form-errors]", form);
    if (summary) {
      summary.textContent = general.join(" ");
      summary.hidden = !general.length;
    }
    return Object.keys(errors).length === 0;
  }

  // Record an action (FK.perform); when the device cannot (storage full or refused, a defect),
  // nothing was written, envelope and local change alike: the form stays open and says so.
  async function record(form, action, entity, payload, baseVersion) {
    try {
      await FK.perform(action, entity, payload, baseVersion);
      return true;
    } catch (error) {
      console.warn("field kit: the change was not recorded", error);
      const message = FK.t("This change could not be recorded on this device, nothing was saved: %(error)s",
        { error: String(error && error.message || error) });
      if (form) { showErrors(form, { general: message }); } else { FK.status.error = message; FK.renderStatus(); }
      return false;
    }
  }

  function fieldInput(field, value, prefix) {
    const id = prefix + field.name;
    const lists = FK.lists();
    let input;
    if (field.name === "segment") {
      input = el("select", { className: "form-select", id: id, name: field.name },
        el("option", { value: "", text: "—" }),
        ...(lists.segments || []).map((segment) => el("option", { value: segment.code, text: segment.name, selected: segment.code === value })));
    } else if (field.name === "payment_mode") {
      input = el("select", { className: "form-select", id: id, name: field.name },
        el("option", { value: "", text: "—" }),
        ...(lists.payment_modes || []).map((mode) => el("option", { value: mode.value, text: mode.label, selected: mode.value === value })));
    } else {
      input = el("input", { className: "form-control", id: id, name: field.name, type: INPUT_TYPES[field.name] || "text",
        value: value === null || value === undefined ? "" : String(value) });
    }
    input.dataset.testid = "field-" + field.name;
    return el("div", { className: "col-md-6 mb-3" },
      el("label", { className: "form-label", for: id, text: field.label },
        field.required ? el("span", { className: "text-danger", "aria-hidden": "true", text: " *" }) : ""),
      input, el("div", { className: "invalid-feedback", dataset: { errorFor: field.name } }));
  }

  function readField(form, name) {
    const input = form.elements[name];
    if (!input) { return undefined; }
    const value = input.value.trim();
    if (name === "payment_days") { return value === "" ? null : parseInt(value, 10); }
    if (NULLABLE.includes(name)) { return value || null; }
    return value;
  }

  // --- Visit today -----------------------------------------------------------------------------

  function drawGroups(groups, container) {
    groups.forEach((group) => {
      const fieldset = el("fieldset", { className: "mb-2", dataset: { group: String(group.id), kind: group.kind } },
        el("legend", { className: "fs-6 fw-semibold mb-1", text: group.label }));
      (group.options || []).forEach((option) => {
        const id = "field-answer-" + option.id;
        const input = el("input", {
          className: "form-check-input", type: group.kind === "radio" ? "radio" : "checkbox",
          name: "answers_" + group.id, value: String(option.id), id: id
        });
        fieldset.append(el("div", { className: "form-check" }, input, el("label", { className: "form-check-label", for: id, text: option.label })));
        if ((option.groups || []).length) {
          // Nested questions count only under their chosen option.
          const nested = el("div", { className: "ms-4 nested-group", dataset: { under: String(option.id) }, hidden: true });
          drawGroups(option.groups, nested);
          fieldset.append(nested);
        }
      });
      container.append(fieldset);
    });
  }

  function syncNested(form) {
    FK.$$("[data-under]", form).forEach((nested) => {
      const option = FK.$("#field-answer-" + nested.dataset.under, form);
      const open = option.checked && !option.disabled;
      nested.hidden = !open;
      FK.$$("input", nested).forEach((input) => { input.disabled = !open; });
    });
  }

  function chosenAnswers(form) {
    const answers = {};
    FK.$$("[data-tree] fieldset[data-group]", form).forEach((fieldset) => {
      const chosen = FK.$$(":scope > .form-check > input:checked", fieldset).filter((input) => !input.disabled)
        .map((input) => input.value);
      if (chosen.length) { answers[fieldset.dataset.group] = chosen; }
    });
    return answers;
  }

  FK.openVisit = function (restaurant) {
    const form = FK.$("[data-visit-form]");
    const settings = FK.settings();
    const lists = FK.lists();
    const today = FK.today();
    const oldest = FK.addDays(today, -(settings.backdate_days || 0));
    form.reset();
    showErrors(form, {});
    FK.$("[data-visit-name]").textContent = restaurant.name;
    form.elements.day.value = today;
    form.elements.day.min = oldest;
    form.elements.day.max = today;
    FK.$("[data-day-help]", form).textContent = FK.t("From %(oldest)s to today.", { oldest: FK.formatDate(oldest) });
    form.elements.kind.replaceChildren(...(lists.visit_kinds || [{ value: "visit", label: FK.t("Visit") }])
      .map((kind) => el("option", { value: kind.value, text: kind.label, selected: kind.value === "visit" })));
    form.elements.pack.replaceChildren(el("option", { value: "", text: "—" }),
      ...(lists.packs || []).map((pack) => el("option", { value: pack.code, text: pack.name })));
    form.elements.revisit_preset.replaceChildren(el("option", { value: "", text: FK.t("No revisit date") }),
      ...(settings.revisit_presets || []).map((days) => el("option", { value: String(days), text: FK.tn("In %(count)s day", days) })),
      el("option", { value: "date", text: FK.t("On a date") }));
    const tree = FK.$("[data-tree]", form);
    tree.replaceChildren();
    drawGroups(FK.state.snapshot ? FK.state.snapshot.visit_form || [] : [], tree);
    syncNested(form);
    form.dataset.key = restaurant.key;
    modal("field-visit-dialog").show();
  };

  async function submitVisit(event) {
    event.preventDefault();
    const form = event.target;
    const restaurant = await FK.db.restaurants.get(form.dataset.key);
    const today = FK.today();
    const oldest = FK.addDays(today, -(FK.settings().backdate_days || 0));
    const day = form.elements.day.value;
    const errors = {};
    // The rules of the sales app: back within the admin's bound, never in the future.
    if (!FK.parseDate(day)) { errors.day = FK.t("Enter a valid date."); }
    else if (day > today) { errors.day = FK.t("A visit cannot be recorded in the future."); }
    else if (day < oldest) { errors.day = FK.t("A visit can be dated back to %(date)s at the earliest.", { date: FK.formatDate(oldest) }); }
    const preset = form.elements.revisit_preset.value;
    const revisit = form.elements.revisit_date.value;
    if (preset === "date" && !revisit) { errors.revisit_date = FK.t("Choose the revisit date."); }
    if (!restaurant) { errors.general = FK.t("This restaurant is not in the data of this device."); }
    if (!showErrors(form, errors)) { return; }
    const payload = {
      date: day,
      kind: form.elements.kind.value || "visit",
      report: form.elements.report.value.trim(),
      answers: chosenAnswers(form),
      revisit_date: revisit || null,
      pack_offered: form.elements.pack.value || null
    };
    const action = restaurant.kind === "client" ? "visit" : "prospect-visit";
    if (!(await record(form, action, FK.entityOf(restaurant), payload))) { return; }
    closeModal("field-visit-dialog");
  }

  // --- Modification request --------------------------------------------------------------------

  FK.openChangeRequest = function (restaurant) {
    const form = FK.$("[data-change-form]");
    form.reset();
    showErrors(form, {});
    form.dataset.key = restaurant.key;
    FK.$("[data-change-name]").textContent = restaurant.name;
    const box = FK.$("[data-change-fields]", form);
    box.replaceChildren(...(FK.lists().change_request_fields || []).map((field) => {
      const id = "field-change-" + field.name;
      const current = restaurant[field.name];
      const input = el("input", { className: "form-control form-control-sm", id: id + "-value", name: field.name,
        disabled: true, "aria-label": FK.t("New value of %(field)s", { field: field.label }), dataset: { testid: "change-" + field.name } });
      const tick = el("input", { className: "form-check-input", type: "checkbox", id: id, dataset: { changeField: field.name, testid: "tick-" + field.name } });
      tick.addEventListener("change", () => {
        input.disabled = !tick.checked;
        if (tick.checked) { input.value = current === null || current === undefined ? "" : String(current); input.focus(); }
      });
      return el("div", { className: "row g-2 align-items-center mb-2" },
        el("div", { className: "col-sm-4" }, el("div", { className: "form-check" }, tick, el("label", { className: "form-check-label", for: id, text: field.label }))),
        el("div", { className: "col-sm-3 small text-muted text-truncate", text: current === null || current === undefined || current === "" ? "—" : String(current) }),
        el("div", { className: "col-sm-5" }, input));
    }));
    modal("field-change-dialog").show();
  };

  async function submitChange(event) {
    event.preventDefault();
    const form = event.target;
    const restaurant = await FK.db.restaurants.get(form.dataset.key);
    const changes = {};
    FK.$$("[data-change-field]", form).filter((tick) => tick.checked).forEach((tick) => {
      changes[tick.dataset.changeField] = form.elements[tick.dataset.changeField].value.trim();
    });
    const errors = {};
    if (!Object.keys(changes).length) { errors.general = FK.t("Tick at least one field to change."); }
    if (!showErrors(form, errors)) { return; }
    const request = { changes: changes, comment: form.elements.comment.value.trim() };
    if (!(await record(form, "change-request", FK.entityOf(restaurant), request))) { return; }
    closeModal("field-change-dialog");
  }

  // --- Prospect form -------------------------------------------------------------------------

  function prospectFields() {
    const listed = FK.lists().prospect_fields;
    const fields = listed && listed.length ? listed : DEFAULT_PROSPECT_FIELDS.map((name) => ({ name: name, label: FK.t("field:" + name) }));
    return fields.map((field) => Object.assign({}, field, { required: field.name === "name" }));
  }

  async function drawProspectForm(args) {
    const form = FK.$("[data-prospect-form]");
    const restaurant = args[0] ? await FK.db.restaurants.get(args[0]) : null;
    const editing = Boolean(restaurant);
    FK.$("[data-when-new]").hidden = editing;
    FK.$("[data-when-edit]").hidden = !editing;
    form.dataset.key = editing ? restaurant.key : "";
    FK.$("[data-fields]", form).replaceChildren(...prospectFields().map((field) =>
      fieldInput(field, editing ? restaurant[field.name] : field.name === "country" ? "FR" : "", "field-prospect-")));
    FK.$("[data-duplicates]", form).hidden = true;
    FK.$("[data-confirm-homonym]", form).checked = false;
    FK.$("[data-cancel]", form).setAttribute("href", editing ? FK.cardUrl(restaurant) : "#/prospects");
  }
  FK.route("prospect-new", () => drawProspectForm([]));
  FK.route("prospect-edit", drawProspectForm);

  async function submitProspect(event) {
    event.preventDefault();
    const form = event.target;
    const restaurant = form.dataset.key ? await FK.db.restaurants.get(form.dataset.key) : null;
    const values = {};
    prospectFields().forEach((field) => { values[field.name] = readField(form, field.name); });
    const errors = {};
    if (!values.name) { errors.name = FK.t("The name is required."); }
    if (!showErrors(form, errors)) { return; }

    // The duplicate check on the phone number, against every restaurant on this device.
    const phone = FK.phoneKey(values.phone);
    const box = FK.$("[data-duplicates]", form);
    if (phone && (!restaurant || FK.phoneKey(restaurant.phone) !== phone)) {
      const matches = (await FK.db.restaurants.toArray())
        .filter((row) => (!restaurant || row.key !== restaurant.key) && FK.phoneKey(row.phone) === phone);
      if (matches.length && !FK.$("[data-confirm-homonym]", form).checked) {
        FK.$("[data-duplicate-list]", form).replaceChildren(...matches.map((row) =>
          el("li", {}, el("a", { href: FK.cardUrl(row), text: row.name }), " · " + [row.code, row.city, row.phone].filter(Boolean).join(" · "))));
        box.hidden = false;
        box.scrollIntoView({ block: "center" });
        return;
      }
    }
    box.hidden = true;

    if (!restaurant) {
      const fields = {};
      Object.entries(values).forEach(([name, value]) => { if (value !== "" && value !== null) { fields[name] = value; } });
      const clientId = crypto.randomUUID();
      const entity = { kind: "prospect", id: null, client_id: clientId };
      if (!(await record(form, "prospect-create", entity, { fields: fields }))) { return; }
      window.location.hash = "#/prospect/" + encodeURIComponent("u" + clientId);
      return;
    }
    const fields = {}, base = {};
    Object.entries(values).forEach(([name, value]) => {
      const before = restaurant[name] === undefined ? (NULLABLE.includes(name) ? null : "") : restaurant[name];
      if ((value || null) !== (before || null)) { fields[name] = value; base[name] = before; }
    });
    if (Object.keys(fields).length) {
      const update = { fields: fields, base: base };
      if (!(await record(form, "prospect-update", FK.entityOf(restaurant), update, restaurant.updated_at || null))) { return; }
    }
    window.location.hash = FK.cardUrl(restaurant);
  }

  async function deleteProspect(restaurant) {
    if (!window.confirm(FK.t("Delete the prospect %(name)s?", { name: restaurant.name }))) { return; }
    if (!(await record(null, "prospect-delete", FK.entityOf(restaurant), {}, restaurant.updated_at || null))) { return; }
    window.location.hash = "#/prospects";
  }

  // --- Client creation request ---------------------------------------------------------------

  let pad = null;

  function resizePad(canvas) {
    // The drawing buffer matches the displayed size so that strokes land under the pointer.
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const data = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  }

  function syncPayment(form) {
    const mode = form.elements.payment_mode.value;
    const block = FK.$("[data-direct-debit]", form);
    block.hidden = mode !== "direct_debit";
    const rules = FK.lists().payment_rules || {};
    const chequeDays = FK.$("[data-cheque-days]", form);
    const cheque = mode === "cheque";
    form.elements.payment_days.disabled = cheque;
    chequeDays.hidden = !cheque;
    chequeDays.textContent = FK.t("A cheque payment is due %(days)s days after the invoice.", { days: rules.cheque_days || 0 });
    if (!block.hidden && pad) { resizePad(FK.$("[data-signature-pad]", form)); }
  }

  async function drawConvert(args) {
    const form = FK.$("[data-convert-form]");
    const restaurant = await FK.db.restaurants.get(args[0]);
    if (!restaurant) { window.location.hash = "#/prospects"; return; }
    form.reset();
    showErrors(form, {});
    form.dataset.key = restaurant.key;
    FK.$("[data-convert-name]").textContent = restaurant.name;
    FK.$("[data-fields]", form).replaceChildren(...FK.conversionFields().map((field) =>
      fieldInput(Object.assign({ required: true }, field), restaurant[field.name], "field-convert-")));
    const lists = FK.lists();
    form.elements.payment_mode.replaceChildren(el("option", { value: "", text: "—" }),
      ...(lists.payment_modes || []).map((mode) => el("option", { value: mode.value, text: mode.label, selected: mode.value === restaurant.payment_mode })));
    form.elements.payment_days.value = restaurant.payment_days === null || restaurant.payment_days === undefined ? "" : restaurant.payment_days;
    const canvas = FK.$("[data-signature-pad]", form);
    if (!pad && window.SignaturePad) { pad = new window.SignaturePad(canvas); }
    if (pad) { pad.clear(); }
    FK.$("[data-cancel]", form).setAttribute("href", FK.cardUrl(restaurant));
    syncPayment(form);
  }
  FK.route("convert", drawConvert);

  async function submitConvert(event) {
    event.preventDefault();
    const form = event.target;
    const restaurant = await FK.db.restaurants.get(form.dataset.key);
    const fields = {};
    FK.conversionFields().forEach((field) => { fields[field.name] = readField(form, field.name); });
    const mode = form.elements.payment_mode.value;
    const rules = FK.lists().payment_rules || {};
    const daysText = form.elements.payment_days.value.trim();
    const values = {
      fields: fields,
      payment_mode: mode,
      payment_days: mode === "cheque" ? Number(rules.cheque_days || 0) : daysText === "" ? null : parseInt(daysText, 10),
      iban: mode === "direct_debit" ? FK.compact(form.elements.iban.value) : "",
      bic: mode === "direct_debit" ? FK.compact(form.elements.bic.value) : "",
      signature: mode === "direct_debit" && pad && !pad.isEmpty() ? pad.toDataURL("image/png") : "",
      comment: form.elements.comment.value.trim()
    };
    if (values.payment_days !== null && (isNaN(values.payment_days) || values.payment_days < 0 || values.payment_days > 120)) {
      values.payment_days = null;
    }
    const errors = FK.conversionErrors(restaurant, values);
    if (!showErrors(form, errors)) {
      const first = FK.$(".is-invalid", form);
      if (first) { first.focus(); }
      return;
    }
    if (!(await record(form, "conversion-request", FK.entityOf(restaurant), values))) { return; }
    window.location.hash = FK.cardUrl(restaurant);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const visit = FK.$("[data-visit-form]");
    visit.addEventListener("submit", submitVisit);
    visit.addEventListener("change", (event) => {
      if (event.target.name && event.target.name.startsWith("answers_")) { syncNested(visit); }
      if (event.target.name === "revisit_preset") {
        const value = event.target.value;
        if (/^\d+$/.test(value)) { visit.elements.revisit_date.value = FK.addDays(FK.today(), Number(value)); }
        if (value === "") { visit.elements.revisit_date.value = ""; }
      }
      if (event.target.name === "revisit_date") { visit.elements.revisit_preset.value = event.target.value ? "date" : ""; }
    });
    FK.$("[data-change-form]").addEventListener("submit", submitChange);
    FK.$("[data-prospect-form]").addEventListener("submit", submitProspect);
    const convert = FK.$("[data-convert-form]");
    convert.addEventListener("submit", submitConvert);
    convert.addEventListener("change", (event) => { if (event.target.name === "payment_mode") { syncPayment(convert); } });
    FK.$("[data-signature-clear]").addEventListener("click", () => { if (pad) { pad.clear(); } });
    window.addEventListener("resize", () => {
      const canvas = FK.$("[data-signature-pad]");
      if (pad && canvas.offsetWidth) { resizePad(canvas); }
    });
    FK.$("[data-route=restaurant]").addEventListener("click", (event) => {
      const button = event.target.closest("[data-action]");
      if (!button || !FK.current) { return; }
      if (button.dataset.action === "visit") { FK.openVisit(FK.current); }
      if (button.dataset.action === "change-request") { FK.openChangeRequest(FK.current); }
      if (button.dataset.action === "delete") { deleteProspect(FK.current); }
    });
  });
})(window.FieldKit = window.FieldKit || {});
