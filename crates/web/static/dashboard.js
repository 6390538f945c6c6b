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

  // The transcript opens at its newest message, as WhatsApp does: the attendant sees why the
  // customer is waiting without scrolling. Each poll keeps it at the bottom only if it was
  // there, so reading older messages is not interrupted.
  function transcript() {
    return document.getElementById("transcript");
  }
  function atBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  }
  var stick = true;
  document.addEventListener("htmx:beforeSwap", function (e) {
    var t = transcript();
    if (t && e.detail.target === t) {
      stick = atBottom(t);
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var t = transcript();
    if (t && e.detail.target === t && stick) {
      t.scrollTop = t.scrollHeight;
    }
  });
  function toNewest() {
    var t = transcript();
    if (t) {
      t.scrollTop = t.scrollHeight;
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", toNewest);
  } else {
    toNewest();
  }

  // Quick replies: a click puts the saved text in the reply box where the cursor is.
  document.addEventListener("click", function (e) {
    var b = e.target && e.target.closest ? e.target.closest(".quick-reply") : null;
    var box = document.getElementById("reply-text");
    if (!b || !box) {
      return;
    }
    e.preventDefault();
    var text = b.getAttribute("data-text") || "";
    var start = box.selectionStart || 0, end = box.selectionEnd || 0, v = box.value;
    if (document.activeElement !== box) {
      start = end = v.length;
    }
    var before = v.slice(0, start), after = v.slice(end);
    var sep = before && !/\s$/.test(before) ? " " : "";
    box.value = before + sep + text + after;
    var at = (before + sep + text).length;
    box.focus();
    box.setSelectionRange(at, at);
  });

  // The count waiting for a person, from a polled answer: in the tab title "(2) …" and in
  // the menu's badge (added when the queue fills, removed when it empties).
  function showWaiting(n) {
    document.title = (n > 0 ? "(" + n + ") " : "") + document.title.replace(/^\(\d+\) /, "");
    var link = document.getElementById("nav-waiting");
    if (n > 0 && !link) {
      var conv = document.querySelector('.dash-nav a[href="/conversas"]');
      if (!conv) {
        return;
      }
      link = document.createElement("a");
      link.href = "/conversas?estado=WAITING_PERSON";
      link.className = "queue";
      link.id = "nav-waiting";
      link.title = "Conversas aguardando atendente";
      link.appendChild(document.createTextNode("Aguardando atendente "));
      var badge = document.createElement("span");
      badge.className = "badge";
      link.appendChild(badge);
      conv.parentNode.insertBefore(link, conv.nextSibling);
    }
    if (link && n > 0) {
      link.querySelector(".badge").textContent = String(n);
    } else if (link) {
      link.parentNode.removeChild(link);
    }
  }

  // Live parts (the inbox rows, the overview tiles): fetched again every 5 s while the tab
  // is visible, right away when it comes back; a signed-out session stops the polling.
  var PERIOD = 5000;
  function live(el) {
    var url = el.getAttribute("data-live"), busy = false, stopped = false;
    function refresh() {
      if (busy || stopped || document.visibilityState !== "visible") {
        return;
      }
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, redirect: "manual" })
        .then(function (r) {
          if (r.type === "opaqueredirect" || r.status === 401 || r.status === 403) {
            stopped = true;
            return null;
          }
          if (!r.ok) {
            return null;
          }
          var n = parseInt(r.headers.get("X-Aguardando-Atendente") || "", 10);
          if (!isNaN(n)) {
            showWaiting(n);
          }
          return r.text();
        })
        .then(function (html) {
          if (html !== null && html !== undefined && el.innerHTML !== html) {
            el.innerHTML = html;
          }
        })
        .catch(function () { /* offline for a moment: the next tick tries again */ })
        .then(function () { busy = false; });
    }
    setInterval(refresh, PERIOD);
    document.addEventListener("visibilitychange", refresh);
  }
  function start() {
    var els = document.querySelectorAll("[data-live]");
    for (var i = 0; i < els.length; i++) {
      live(els[i]);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
