// Small progressive enhancements; the pages work without them.
(function () {
  "use strict";

  // Close form: show only the fields that belong to the chosen outcome.
  function syncOutcome(form) {
    var chosen = form.querySelector("input[name=outcome]:checked");
    var value = chosen ? chosen.value : "";
    form.querySelectorAll("[data-outcome]").forEach(function (el) {
      var show = el.getAttribute("data-outcome").split(" ").indexOf(value) !== -1;
      el.hidden = !show;
    });
  }

  function init(root) {
    root.querySelectorAll("form[data-close-form]").forEach(function (form) {
      syncOutcome(form);
      form.addEventListener("change", function () { syncOutcome(form); });
    });
    root.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.requestSubmit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
})();
