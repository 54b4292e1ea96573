// A saved reply template fills the reply box (already personalised by the server).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-reply-template]");
    if (!button) { return; }
    var box = document.querySelector("textarea[name=text]");
    if (!box) { return; }
    box.value = button.getAttribute("data-reply-template");
    box.focus();
  });
})();
