// The calendar of scheduled and published posts (read only: a post opens in its editor). The
// server answers {events, more, notice}: when a period holds more posts than it sends, the
// notice above the calendar says how to narrow it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("post-calendar");
    var notice = document.getElementById("post-calendar-notice");
    if (!element || !window.FullCalendar) { return; }
    var base = element.getAttribute("data-events-url");
    var calendar = new window.FullCalendar.Calendar(element, {
      locale: element.getAttribute("data-locale") || "fr",
      initialView: "dayGridMonth",
      headerToolbar: { left: "prev,next today", center: "title", right: "timeGridWeek,dayGridMonth,listMonth" },
      nowIndicator: true,
      events: function (info, success, failure) {
        var url = base + (base.indexOf("?") >= 0 ? "&" : "?") +
          "start=" + encodeURIComponent(info.startStr) + "&end=" + encodeURIComponent(info.endStr);
        window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            if (!response.ok) { throw new Error(response.status); }
            return response.json();
          })
          .then(function (data) {
            if (notice) {
              notice.textContent = data.notice || "";
              notice.hidden = !data.more;
            }
            success(data.events);
          })
          .catch(failure);
      }
    });
    calendar.render();
  });
})();
