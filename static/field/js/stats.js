// Field kit: the agent's field statistics computed from the local data, with the definitions of
// reports/field_stats.py (`compute`): the same four figures from the same kind of rows.
// Amounts are summed in cents so that no float rounding creeps in.
(function (FK) {
  "use strict";
  const MAX_MONTHS = 24;

  function monthStart(text) { return text.slice(0, 7) + "-01"; }

  function addMonths(month, count) {
    const [year, number] = month.split("-").map(Number);
    const index = year * 12 + (number - 1) + count;
    return Math.floor(index / 12) + "-" + String(index % 12 + 1).padStart(2, "0") + "-01";
  }

  function parseMonth(text, fallback) {
    return /^\d{4}-(0[1-9]|1[0-2])$/.test(text || "") ? text + "-01" : fallback;
  }

  // The months between two YYYY-MM values, both included; by default the last twelve; reversed
  // bounds swapped; longer than MAX_MONTHS keeps the last months (period_from_params).
  FK.statsPeriod = function (first, last, today) {
    const thisMonth = monthStart(today);
    let start = parseMonth(first, addMonths(thisMonth, -11));
    let final = parseMonth(last, thisMonth);
    if (final < start) { [start, final] = [final, start]; }
    let shortened = false;
    if (addMonths(start, MAX_MONTHS) <= final) { start = addMonths(final, 1 - MAX_MONTHS); shortened = true; }
    const months = [];
    for (let month = start; month <= final; month = addMonths(month, 1)) { months.push(month); }
    return { start: start, last: final, months: months, shortened: shortened };
  };

  function ordered(names, order) {
    const known = order.filter((name) => names.has(name));
    const rest = Array.from(names).filter((name) => !known.includes(name)).sort();
    return known.concat(rest);
  }

  function cents(amount) {
    const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(amount || "0").trim());
    if (!match) { return 0; }
    const value = Number(match[2]) * 100 + Number((match[3] || "0").padEnd(2, "0"));
    return match[1] ? -value : value;
  }

  // rows: {visits: [{day, kind, restaurant, segment, while_prospect, pack}],
  //        portfolio: [{restaurant, status}], invoices: [{month, amount}],
  //        contracts: [{signed_on, monthly_price, duration_months}], segments: [names], packs: [names]}
  FK.computeStats = function (period, rows) {
    const index = new Map(period.months.map((month, position) => [month, position]));
    const empty = () => period.months.map(() => 0);
    const bySegment = new Map();
    const noSegment = empty();
    const prospectVisits = empty();
    const byPack = new Map();
    const visited = new Set();
    for (const row of rows.visits) {
      const position = index.get(monthStart(row.day));
      if (position === undefined) { continue; }
      if (row.pack) {
        if (!byPack.has(row.pack)) { byPack.set(row.pack, empty()); }
        byPack.get(row.pack)[position] += 1;
      }
      if (row.kind !== "visit") { continue; }
      visited.add(row.restaurant);
      if (row.while_prospect) { prospectVisits[position] += 1; }
      else if (row.segment) {
        if (!bySegment.has(row.segment)) { bySegment.set(row.segment, empty()); }
        bySegment.get(row.segment)[position] += 1;
      } else { noSegment[position] += 1; }
    }
    const visits = ordered(new Set(bySegment.keys()), rows.segments || [])
      .map((name) => ({ label: name, values: bySegment.get(name) }));
    if (noSegment.some(Boolean)) { visits.push({ label: FK.t("No segment"), values: noSegment }); }
    visits.push({ label: FK.t("Prospects"), values: prospectVisits });
    const proposals = ordered(new Set(byPack.keys()), rows.packs || [])
      .map((name) => ({ label: name, values: byPack.get(name) }));

    const invoiced = empty();
    for (const row of rows.invoices || []) {
      const position = index.get(monthStart(row.month));
      if (position !== undefined) { invoiced[position] += cents(row.amount); }
    }
    const signed = (rows.contracts || []).filter((row) => index.has(monthStart(row.signed_on)));

    const coverage = { client: { total: 0, visited: 0 }, prospect: { total: 0, visited: 0 } };
    for (const row of rows.portfolio) {
      const bucket = coverage[row.status];
      if (!bucket) { continue; }
      bucket.total += 1;
      bucket.visited += visited.has(row.restaurant) ? 1 : 0;
    }
    const share = (bucket) => (bucket.total ? Math.round(1000 * bucket.visited / bucket.total) / 10 : null);
    const sum = (values) => values.reduce((total, value) => total + value, 0);
    const visitsTotal = visits.reduce((total, series) => total + sum(series.values), 0);
    return {
      months: period.months,
      visits: visits,
      proposals: proposals,
      invoicedCents: invoiced,
      visitsTotal: visitsTotal,
      clientVisits: visitsTotal - sum(prospectVisits),
      prospectVisits: sum(prospectVisits),
      proposalsTotal: proposals.reduce((total, series) => total + sum(series.values), 0),
      invoicedTotalCents: sum(invoiced),
      contractsSigned: signed.length,
      newMonthlyCents: sum(signed.map((row) => cents(row.monthly_price))),
      contractValueCents: sum(signed.map((row) => cents(row.monthly_price) * Number(row.duration_months || 0))),
      clients: Object.assign(coverage.client, { share: share(coverage.client) }),
      prospects: Object.assign(coverage.prospect, { share: share(coverage.prospect) })
    };
  };

  // The rows of the agent's local data.
  FK.statsRows = async function () {
    const lists = FK.lists();
    const segmentNames = new Map((lists.segments || []).map((item) => [item.code, item.name]));
    const packNames = new Map((lists.packs || []).map((item) => [item.code, item.name]));
    const restaurants = await FK.db.restaurants.toArray();
    const segmentOf = new Map(restaurants.map((row) => [row.key, row.segment]));
    const mine = await FK.db.visits.where("agent").equals(FK.config.agent).toArray();
    const stats = (FK.state.snapshot && FK.state.snapshot.stats) || {};
    return {
      visits: mine.map((row) => {
        const segment = row.segment !== undefined && row.segment !== null ? row.segment : segmentOf.get(row.restaurant_key);
        return {
          day: row.date,
          kind: row.kind,
          restaurant: row.restaurant_key,
          segment: segment ? segmentNames.get(segment) || segment : "",
          while_prospect: Boolean(row.while_prospect),
          pack: row.pack ? packNames.get(row.pack) || row.pack : ""
        };
      }),
      // Restaurants assigned to the agent today; former clients count as neither.
      portfolio: restaurants.filter((row) => row.assigned !== false)
        .map((row) => ({ restaurant: row.key, status: row.status || row.kind })),
      invoices: stats.invoices || [],
      contracts: stats.contracts || [],
      segments: (lists.segments || []).map((item) => item.name),
      packs: (lists.packs || []).map((item) => item.name)
    };
  };
})(window.FieldKit = window.FieldKit || {});
