// Behaviour shared by every page. Loaded as a file: the Content-Security-Policy forbids inline script.
(function () {
  "use strict";
  // Forms that destroy something ask first (data-confirm holds the translated question).
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // A select marked data-autosubmit submits its form when changed.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-autosubmit]")) {
      event.target.form.submit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Bring keyboard focus to the main content after following the skip link.
    var skip = document.querySelector(".skip-link");
    if (skip) {
      skip.addEventListener("click", function () {
        var main = document.getElementById("main");
        if (main) { main.focus(); }
      });
    }
  });
})();
