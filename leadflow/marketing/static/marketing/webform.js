/* The public inquiry form: fill the hidden campaign fields (utm_source, utm_medium,
   utm_campaign) from the address and the referring page from document.referrer,
   where the server left them empty. No inline script: CSP script-src 'self'. */
(function () {
  "use strict";
  function fill() {
    var params = new URLSearchParams(window.location.search);
    ["utm_source", "utm_medium", "utm_campaign"].forEach(function (name) {
      var input = document.querySelector('input[data-wf="' + name + '"]');
      if (input && !input.value && params.get(name)) {
        input.value = params.get(name).slice(0, 500);
      }
    });
    var ref = document.querySelector('input[data-wf="referrer"]');
    if (ref && !ref.value && document.referrer) {
      try {
        var from = new URL(document.referrer);
        if (from.origin !== window.location.origin) {
          ref.value = document.referrer.slice(0, 500);
        }
      } catch (e) {
        /* not an address: leave it empty */
      }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fill);
  } else {
    fill();
  }
})();
