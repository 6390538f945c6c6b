// The dashboard's only script besides htmx (the CSP allows no inline script).
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  // Every HTMX request carries the session's CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf();
  });
  // Clear the reply box after a hand-written message went out.
  document.addEventListener("htmx:afterRequest", function (e) {
    var el = e.detail.elt;
    if (e.detail.successful && el && el.classList && el.classList.contains("reply")) {
      el.reset();
    }
  });
})();
