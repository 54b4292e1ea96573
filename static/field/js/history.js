// Field kit: the agent's visits in a calendar (FullCalendar, vendored), from the local data.
(function (FK) {
  "use strict";
  let calendar = null;
  const COLOURS = { visit: "#1f4e79", phone: "#3a9d5d", email: "#7b5ea7", agency: "#f0a202" };

  async function events() {
    const lists = FK.lists();
    const restaurants = new Map((await FK.db.restaurants.toArray()).map((row) => [row.key, row]));
    const visits = await FK.db.visits.where("agent").equals(FK.config.agent).toArray();
    return visits.map((visit) => {
      const restaurant = restaurants.get(visit.restaurant_key);
      return {
        id: visit.key,
        title: (restaurant ? restaurant.name : FK.t("Restaurant no longer in your data")) +
          " · " + FK.label(lists.visit_kinds, visit.kind),
        start: visit.date,
        allDay: true,
        url: restaurant ? FK.cardUrl(restaurant) : undefined,
        backgroundColor: COLOURS[visit.kind] || COLOURS.visit,
        borderColor: COLOURS[visit.kind] || COLOURS.visit,
        classNames: visit.envelope ? ["field-event-pending"] : []
      };
    });
  }

  FK.route("history", async function () {
    const element = document.getElementById("field-calendar");
    if (!window.FullCalendar) { return; }
    const source = await events();
    if (!calendar) {
      calendar = new window.FullCalendar.Calendar(element, {
        locale: FK.config.language || "fr",
        initialView: "dayGridMonth",
        initialDate: FK.today(),
        headerToolbar: { left: "prev,next today", center: "title", right: "dayGridMonth,listMonth" },
        height: "auto",
        events: source
      });
      calendar.render();
    } else {
      calendar.removeAllEvents();
      calendar.addEventSource(source);
      calendar.updateSize();
    }
  });
})(window.FieldKit = window.FieldKit || {});
