// The agent's agenda: FullCalendar fed by JSON; drag, drop and resize save the visit at once.
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function toLocalInput(date) {
    var pad = function (n) { return String(n).padStart(2, "0"); };
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("calendar");
    if (!element || !window.FullCalendar) { return; }
    var moveUrl = element.getAttribute("data-move-url");

    function save(info) {
      fetch(moveUrl.replace("/0/", "/" + info.event.id + "/"), {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
        body: JSON.stringify({ start: info.event.start.toISOString(), end: (info.event.end || info.event.start).toISOString() })
      }).then(function (response) {
        if (response.ok) { return; }
        return response.json().then(function (body) {
          info.revert();
          window.alert(element.getAttribute("data-error") + " " + (body.error || response.status));
        });
      }).catch(function () {
        info.revert();
        window.alert(element.getAttribute("data-error"));
      });
    }

    var calendar = new window.FullCalendar.Calendar(element, {
      locale: element.getAttribute("data-locale") || "fr",
      initialView: "timeGridWeek",
      headerToolbar: { left: "prev,next today", center: "title", right: "timeGridDay,timeGridWeek,dayGridMonth" },
      slotMinTime: "07:00:00",
      slotMaxTime: "21:00:00",
      nowIndicator: true,
      editable: true,
      selectable: true,
      events: element.getAttribute("data-events-url"),
      eventDrop: save,
      eventResize: save,
      select: function (info) {
        var form = document.getElementById("plan-form");
        if (!form) { return; }
        form.querySelector("input[name=start]").value = toLocalInput(info.start);
        form.querySelector("input[name=end]").value = toLocalInput(info.end);
        var restaurant = form.querySelector("select[name=restaurant]");
        if (restaurant) { restaurant.focus(); }
      }
    });
    calendar.render();
    element.calendar = calendar;
  });
})();
