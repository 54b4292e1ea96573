// The kanban: dropping a card on a column submits its move form with that stage. A deal dropped
// on "lost" needs a reason: its form is shown for the user to pick one.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var dragged = null;
    document.querySelectorAll(".kanban-card").forEach(function (card) {
      card.addEventListener("dragstart", function (event) {
        dragged = card;
        event.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
      });
    });
    document.querySelectorAll(".kanban-column").forEach(function (column) {
      column.addEventListener("dragover", function (event) { event.preventDefault(); });
      column.addEventListener("drop", function (event) {
        event.preventDefault();
        if (!dragged) { return; }
        var form = dragged.querySelector(".move-form");
        var stage = column.getAttribute("data-stage");
        form.querySelector("select[name=stage]").value = stage;
        var reason = form.querySelector("select[name=lost_reason]");
        if (stage === "lost" && !reason.value) {
          column.querySelector(".kanban-drop").prepend(dragged);
          reason.focus();
          reason.classList.add("is-invalid");
          return;
        }
        form.submit();
      });
    });
  });
})();
