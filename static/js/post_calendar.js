// The calendar of scheduled and published posts (read only: a post opens in its editor).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("post-calendar");
    if (!element || !window.FullCalendar) { return; }
    var calendar = new window.FullCalendar.Calendar(element, {
      locale: element.getAttribute("data-locale") || "fr",
      initialView: "dayGridMonth",
      headerToolbar: { left: "prev,next today", center: "title", right: "timeGridWeek,dayGridMonth,listMonth" },
      nowIndicator: true,
      events: element.getAttribute("data-events-url")
    });
    calendar.render();
  });
})();
