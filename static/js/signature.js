// The client's signature, drawn on a canvas with signature_pad and sent as a PNG data URL.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var canvas = document.querySelector("[data-signature-pad]");
    if (!canvas || !window.SignaturePad) { return; }
    var target = document.getElementById(canvas.getAttribute("data-target"));
    var pad = new window.SignaturePad(canvas);

    function resize() {
      // Match the drawing buffer to the displayed size so strokes land under the pointer.
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var data = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(data);
    }
    window.addEventListener("resize", resize);
    resize();

    pad.addEventListener("endStroke", function () {
      target.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
    });
    var clear = document.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", function () { pad.clear(); target.value = ""; });
    }

    // Show the direct-debit block only when that mode is chosen.
    var mode = document.querySelector("select[name=payment_mode]");
    var block = document.querySelector("[data-direct-debit]");
    function toggle() {
      block.hidden = mode.value !== "direct_debit";
      if (!block.hidden) { resize(); }
    }
    if (mode && block) { mode.addEventListener("change", toggle); toggle(); }
  });
})();
