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
    // Forms that create something: one click, one post (the server also refuses a
    // second post of the same form, core.once).
    root.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
        setTimeout(function () {
          form.querySelectorAll("button[type=submit], button:not([type])").forEach(
            function (b) { b.disabled = true; });
        }, 0);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.target); });
})();
