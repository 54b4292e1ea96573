// Field kit: the checks of the client creation made offline, as the CRM makes them online
// (crm/services.py payment_rules_check): mandatory fields, payment mode rules, IBAN and BIC.
// The server checks everything again when it integrates the request.
(function (FK) {
  "use strict";

  // IBAN lengths per country (the SWIFT IBAN registry).
  const IBAN_LENGTHS = {
    AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29,
    BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29,
    ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
    HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20,
    LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19,
    MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29,
    PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24,
    SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
    YE: 30
  };

  FK.compact = function (value) {
    return String(value || "").replace(/[\s-]/g, "").toUpperCase();
  };

  // ISO 7064 mod 97-10 over the rearranged IBAN, letters as 10..35, computed piecewise.
  function mod97(text) {
    let remainder = 0;
    for (const char of text) {
      const digits = /[A-Z]/.test(char) ? String(char.charCodeAt(0) - 55) : char;
      for (const digit of digits) { remainder = (remainder * 10 + Number(digit)) % 97; }
    }
    return remainder;
  }

  FK.ibanValid = function (value) {
    const iban = FK.compact(value);
    if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) { return false; }
    const length = IBAN_LENGTHS[iban.slice(0, 2)];
    if (!length || iban.length !== length) { return false; }
    return mod97(iban.slice(4) + iban.slice(0, 4)) === 1;
  };

  // Bank (4 letters), country (2 letters), location (2), optional branch (3).
  FK.bicValid = function (value) {
    return /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(FK.compact(value));
  };

  // The client-creation request's errors, {field: message}; empty when it may be sent.
  FK.conversionErrors = function (restaurant, values) {
    const errors = {};
    const lists = FK.lists();
    for (const field of FK.conversionFields()) {
      const value = values.fields[field.name];
      if (value === undefined || value === null || String(value).trim() === "") {
        errors[field.name] = FK.t("This field is required.");
      }
    }
    const mode = values.payment_mode;
    if (!(lists.payment_modes || []).some((item) => item.value === mode)) {
      errors.payment_mode = FK.t("Choose a payment mode.");
    }
    if (mode === "direct_debit") {
      if (!FK.ibanValid(values.iban)) { errors.iban = FK.t("“%(value)s” is not a valid IBAN.", { value: values.iban }); }
      if (!FK.bicValid(values.bic)) { errors.bic = FK.t("“%(value)s” is not a valid BIC.", { value: values.bic }); }
      if (!values.signature) { errors.signature = FK.t("A direct debit needs the client's signature."); }
    }
    if (mode === "cheque") {
      const rules = lists.payment_rules || {};
      const allowed = rules.cheque_segments || [];
      const segment = values.fields.segment !== undefined ? values.fields.segment : restaurant.segment;
      if (allowed.length && !allowed.includes(segment)) {
        errors.payment_mode = FK.t("Cheque is not accepted for the segment %(segment)s.", {
          segment: FK.label(lists.segments, segment, "code")
        });
      }
    } else if (values.payment_days === null || values.payment_days === undefined || values.payment_days === "") {
      errors.payment_days = FK.t("Give the payment term.");
    }
    return errors;
  };

  // The admin's mandatory fields the form asks for; the agent, the payment mode and the term
  // have their own inputs.
  FK.conversionFields = function () {
    const skip = ["sales_agent", "payment_mode", "payment_days", "zone"];
    return (FK.lists().conversion_fields || []).filter((field) => !skip.includes(field.name));
  };
})(window.FieldKit = window.FieldKit || {});
