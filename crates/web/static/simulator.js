// The WhatsApp simulator: posts customer messages to BASE/send (which signs and delivers a
// real webhook) and polls BASE/messages for the bot's answers. BASE is /simulator (the demo
// store, on the public site) or /simulador (a store's own test chat, in its dashboard, where
// writes carry the session's CSRF token).
(function () {
  "use strict";
  var root = document.querySelector("[data-sim-base]");
  var base = root ? root.getAttribute("data-sim-base") : "/simulator";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var chat = document.getElementById("chat");
  var phone = document.getElementById("phone");
  var name = document.getElementById("name");
  var text = document.getElementById("text");
  var seen = {};
  var since = Date.now() - 1000;

  // WhatsApp's *bold*, as the phone shows it: text nodes and <strong> built one by one, never
  // innerHTML (messages are untrusted text).
  function whatsappText(el, text) {
    (text || "").split(/(\*[^*\n]+\*)/).forEach(function (part) {
      if (part.length > 2 && part[0] === "*" && part[part.length - 1] === "*") {
        var b = document.createElement("strong");
        b.textContent = part.slice(1, -1);
        el.appendChild(b);
      } else if (part) {
        el.appendChild(document.createTextNode(part));
      }
    });
  }

  function bubble(cls, body, meta) {
    var div = document.createElement("div");
    div.className = "bubble " + cls;
    whatsappText(div, body);
    if (meta) {
      var m = document.createElement("span");
      m.className = "meta";
      m.textContent = meta;
      div.appendChild(m);
    }
    chat.appendChild(div);
    chat.scrollTop = chat.scrollHeight;
    return div;
  }

  function post(payload) {
    var headers = { "Content-Type": "application/json" };
    if (csrfMeta) { headers["X-CSRF-Token"] = csrfMeta.getAttribute("content"); }
    return fetch(base + "/send", {
      method: "POST",
      headers: headers,
      body: JSON.stringify(payload),
    }).then(function (r) {
      if (!r.ok) { return r.text().then(function (t) { bubble("bot", "⚠️ " + t); }); }
    });
  }

  document.getElementById("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = text.value.trim();
    if (!body) { return; }
    bubble("me", body, "você");
    text.value = "";
    post({ phone: phone.value, name: name.value, text: body });
  });
  // A voice note (issue 16): the file goes base64 in the JSON; the server serves it through the
  // demo's fake Graph API, where the worker downloads it like Meta's media.
  var audio = document.getElementById("audio");
  if (audio) {
    audio.addEventListener("change", function () {
      var file = audio.files && audio.files[0];
      if (!file) { return; }
      var reader = new FileReader();
      reader.onload = function () {
        var data = String(reader.result || "");
        var comma = data.indexOf(",");
        bubble("me", "🎤 áudio: " + file.name, "você");
        post({ phone: phone.value, name: name.value, audio_base64: data.slice(comma + 1),
               audio_mime: file.type || "audio/ogg; codecs=opus" });
        audio.value = "";
      };
      reader.readAsDataURL(file);
    });
  }
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); document.getElementById("composer").requestSubmit(); }
  });
  document.getElementById("new-number").addEventListener("click", function () {
    phone.value = "55119" + String(Math.floor(10000000 + Math.random() * 89999999));
    chat.textContent = "";
    seen = {};
    since = Date.now() - 1000;
  });

  // What WhatsApp's ticks say, in the customer's language.
  var STATUS_PT = { pending: "na fila", sent: "enviada", delivered: "entregue", read: "lida" };

  function draw(m) {
    if (seen[m.id]) { return; }
    seen[m.id] = true;
    if (m.direction === "in") { bubble("me", m.body, "você"); return; }
    // A reply a person wrote in the dashboard is the store's attendant, not the bot.
    var who = m.by_person ? "atendente" : "robô";
    var status = m.status === "failed" ? "falhou: " + (m.error || "") : who + " · " + (STATUS_PT[m.status] || m.status);
    var div = bubble("bot", m.body, status);
    if (m.buttons && m.buttons.length) {
      var box = document.createElement("div");
      box.className = "buttons";
      m.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b[1];
        btn.addEventListener("click", function () {
          bubble("me", b[1], "você");
          post({ phone: phone.value, name: name.value, button_id: b[0], button_title: b[1] });
        });
        box.appendChild(btn);
      });
      div.insertBefore(box, div.lastChild);
    }
    if (m.list && m.list.rows && m.list.rows.length) {
      div.insertBefore(listOf(m.list), div.lastChild);
    }
    if (m.link && m.link.url) {
      var links = document.createElement("div");
      links.className = "buttons";
      var a = document.createElement("a");
      a.className = "cta";
      a.href = m.link.url;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = m.link.label + " ↗";
      links.appendChild(a);
      div.insertBefore(links, div.lastChild);
    }
  }

  // A list message as WhatsApp shows it: a button that opens the rows; a tap on a row
  // answers with Meta's list_reply (the row's id, title and description).
  function listOf(list) {
    var box = document.createElement("div");
    box.className = "buttons list";
    var open = document.createElement("button");
    open.type = "button";
    open.textContent = "☰ " + (list.button || "Ver opções");
    var rows = document.createElement("div");
    rows.className = "rows";
    rows.hidden = true;
    open.addEventListener("click", function () { rows.hidden = !rows.hidden; });
    list.rows.forEach(function (r) {
      var row = document.createElement("button");
      row.type = "button";
      row.className = "row";
      var title = document.createElement("strong");
      title.textContent = r.title;
      row.appendChild(title);
      if (r.description) {
        var d = document.createElement("span");
        d.textContent = r.description;
        row.appendChild(d);
      }
      row.addEventListener("click", function () {
        rows.hidden = true;
        bubble("me", r.title, "você");
        post({ phone: phone.value, name: name.value, button_id: r.id, button_title: r.title,
               list_reply: true, row_description: r.description || null });
      });
      rows.appendChild(row);
    });
    box.appendChild(open);
    box.appendChild(rows);
    return box;
  }

  function poll() {
    fetch(base + "/messages?phone=" + encodeURIComponent(phone.value) + "&after=" + since)
      .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (data) { data.messages.forEach(draw); })
      .catch(function () {})
      .then(function () { setTimeout(poll, 700); });
  }

  // A reload draws the conversation this browser is having again (the server remembers it
  // in a signed cookie), both sides, then keeps polling for the bot's answers.
  fetch(base + "/conversa")
    .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
    .then(function (data) {
      if (data.phone) {
        phone.value = data.phone;
        since = data.since;
      }
      data.messages.forEach(draw);
    })
    .catch(function () {})
    .then(poll);
})();
