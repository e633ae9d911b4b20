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
  var forms = document.querySelectorAll("form[method=post]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "One moment\u2026"; }
    });
  });
})();
