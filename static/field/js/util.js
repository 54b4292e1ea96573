// Field kit: shared helpers (translations, text, dates, DOM, hashing). Loaded first; every file
// of the kit adds to the one namespace window.FieldKit. Plain scripts, no build step.
(function (FK) {
  "use strict";

  function readJson(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : {};
  }

  // Translated strings rendered by the server into the page (the fr/en catalogues cover them).
  const strings = readJson("field-strings");
  FK.config = readJson("field-config");

  function interpolate(text, params) {
    if (!params) { return text; }
    return text.replace(/%\((\w+)\)s/g, (match, name) => (name in params ? String(params[name]) : match));
  }

  // The screens: each file registers the routes it draws (#/name/argument); app.js shows them.
  FK.routes = {};
  FK.route = function (name, render) { FK.routes[name] = render; };

  FK.t = function (key, params) {
    return interpolate(strings[key] !== undefined ? strings[key] : key, params);
  };

  // Singular/plural pair "key" and "key_plural"; French uses the singular for 0 and 1.
  FK.tn = function (key, count, params) {
    const plural = FK.config.language === "fr" ? count > 1 : count !== 1;
    return FK.t(plural ? key + "_plural" : key, Object.assign({ count: count }, params || {}));
  };

  // --- Text: the same normalisation as the server's search (crm/text.py) ------------------

  FK.normalize = function (value) {
    return String(value || "").normalize("NFKD").replace(/\p{Mn}/gu, "").toLowerCase()
      .split(/\s+/).filter(Boolean).join(" ");
  };

  // `*` any run of characters, `?` one; without a wildcard the query matches anywhere.
  FK.wildcard = function (query) {
    const text = FK.normalize(query);
    if (!text) { return null; }
    const body = text.split("").map((char) => {
      if (char === "*") { return ".*"; }
      if (char === "?") { return "."; }
      return char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }).join("");
    const anchored = text.includes("*") || text.includes("?");
    return new RegExp(anchored ? "^" + body + "$" : body);
  };

  // Digits of a phone number in international form, for the duplicate check: "04 72 00 00 00"
  // and "+33472000000" are the same French number.
  FK.phoneKey = function (value) {
    let text = String(value || "").replace(/[^\d+]/g, "");
    if (!text) { return ""; }
    if (text.startsWith("00")) { text = "+" + text.slice(2); }
    if (!text.startsWith("+") && text.startsWith("0")) { text = "+33" + text.slice(1); }
    return text.replace(/^\+/, "");
  };

  // --- Dates: "YYYY-MM-DD" strings are the agent's local dates ----------------------------

  function pad(number, size) { return String(number).padStart(size || 2, "0"); }

  FK.isoDate = function (date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  };

  FK.parseDate = function (text) {
    const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text || "");
    return match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : null;
  };

  FK.addDays = function (text, days) {
    const date = FK.parseDate(text);
    date.setDate(date.getDate() + days);
    return FK.isoDate(date);
  };

  // Whole days from `from` to `to` (date strings), whatever the daylight-saving changes between.
  FK.daysBetween = function (from, to) {
    const a = FK.parseDate(from), b = FK.parseDate(to);
    return Math.round((Date.UTC(b.getFullYear(), b.getMonth(), b.getDate()) -
      Date.UTC(a.getFullYear(), a.getMonth(), a.getDate())) / 86400000);
  };

  // The agent's local date of a server time ("…Z") or of a date already local.
  FK.localDay = function (value) {
    if (!value) { return ""; }
    return /[zZ]|[+-]\d\d:\d\d$/.test(value) ? FK.isoDate(new Date(value)) : value.slice(0, 10);
  };

  const locale = (FK.config.language || "fr") === "fr" ? "fr-FR" : "en-GB";

  FK.formatDate = function (text) {
    const date = FK.parseDate(text);
    return date ? date.toLocaleDateString(locale) : "—";
  };

  FK.formatDateTime = function (value) {
    const date = value instanceof Date ? value : new Date(value);
    return isNaN(date) ? "—" : date.toLocaleString(locale, { dateStyle: "short", timeStyle: "short" });
  };

  FK.formatMoney = function (value) {
    const number = Number(value || 0);
    return number.toLocaleString(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " €";
  };

  // "YYYY-MM-DDTHH:MM:SSZ" of a time, in UTC, as the envelope names want it (without separators).
  FK.utcStamp = function (date) {
    return date.getUTCFullYear() + pad(date.getUTCMonth() + 1) + pad(date.getUTCDate()) + "T" +
      pad(date.getUTCHours()) + pad(date.getUTCMinutes()) + pad(date.getUTCSeconds()) + "Z";
  };

  FK.utcIso = function (date) {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z");
  };

  // --- Hashing: the payload's canonical JSON, as docs/field-envelopes.md defines it ------------

  function canonical(value) {
    if (value === null || typeof value !== "object") {
      if (typeof value === "number" && !Number.isInteger(value)) {
        throw new Error("envelope payloads carry no floats");
      }
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) { return "[" + value.map(canonical).join(",") + "]"; }
    // Python sorts keys by code point; so does the default sort of strings without surrogates.
    return "{" + Object.keys(value).sort().map((key) => JSON.stringify(key) + ":" + canonical(value[key])).join(",") + "}";
  }
  FK.canonical = canonical;

  FK.sha256 = async function (text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
  };

  const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  FK.randomPart = function (length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    return Array.from(bytes, (byte) => CROCKFORD[byte % 32]).join("");
  };

  FK.randomHex = function (length) {
    const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(length / 2)));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("").slice(0, length);
  };

  FK.cookie = function (name) {
    const found = document.cookie.split(";").map((part) => part.trim())
      .find((part) => part.startsWith(name + "="));
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  };

  // --- DOM: built with textContent only, never HTML from data ------------------------------

  FK.el = function (tag, attributes) {
    const element = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => {
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { element.textContent = value; }
      else if (name === "className") { element.className = value; }
      else if (name === "dataset") { Object.assign(element.dataset, value); }
      else { element.setAttribute(name, value === true ? "" : value); }
    });
    for (let index = 2; index < arguments.length; index += 1) {
      const child = arguments[index];
      if (child === null || child === undefined || child === false) { continue; }
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  };

  FK.$ = function (selector, root) { return (root || document).querySelector(selector); };
  FK.$$ = function (selector, root) { return Array.from((root || document).querySelectorAll(selector)); };

  FK.show = function (element, visible) { if (element) { element.hidden = !visible; } };

  FK.label = function (list, value, key) {
    const found = (list || []).find((item) => item[key || "value"] === value);
    return found ? (found.label || found.name) : (value || "—");
  };
})(window.FieldKit = window.FieldKit || {});
