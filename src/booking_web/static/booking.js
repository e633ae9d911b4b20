// Comfort only: every page works without this file.
(function () {
  "use strict";
  var select = document.getElementById("tz");
  if (select) {
    // Show times in the visitor's own time zone unless they chose one.
    var params = new URLSearchParams(window.location.search);
    var detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var known = Array.prototype.some.call(select.options, function (o) { return o.value === detected; });
    if (!params.has("tz") && known && detected !== select.dataset.current) {
      params.set("tz", detected);
      window.location.replace(window.location.pathname + "?" + params.toString());
    }
    select.addEventListener("change", function () { select.form.submit(); });
  }
  if (window.parent !== window) {
    // Shown inside another website by /embed.js. Checkout refuses to be framed: paying (and the
    // confirmation after it) happens in the whole window.
    Array.prototype.forEach.call(document.querySelectorAll("form[data-checkout]"), function (form) {
      form.target = "_top";
    });
    // The embedding page sizes the frame to the page: tell it the height (nothing else).
    var reportHeight = function () {
      var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
      window.parent.postMessage({ type: "booking-engine:height", height: height }, "*");
    };
    reportHeight();
    window.addEventListener("load", reportHeight);
    if (window.ResizeObserver) { new ResizeObserver(reportHeight).observe(document.documentElement); }
  }
  var forms = document.querySelectorAll("form[method=post]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "One moment\u2026"; }
    });
  });
})();
