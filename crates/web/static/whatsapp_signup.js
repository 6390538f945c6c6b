// WhatsApp Embedded Signup on /whatsapp (docs/whatsapp.md, "Embedded Signup").
// Meta's popup gives two things: the `code` (FB.login's callback) and, through a
// `message` event from facebook.com of type WA_EMBEDDED_SIGNUP, the ids of the WhatsApp
// Business Account and number the store chose. When both have arrived, the form posts them
// (with the PIN the owner typed and the CSRF token) to /whatsapp/conectar; the server does
// the rest. No token ever passes through the browser.
(function () {
  "use strict";
  var button = document.getElementById("fb-signup");
  var form = document.getElementById("signup-form");
  if (!button || !form) return;
  var status = document.getElementById("signup-status");
  var got = { code: "", waba_id: "", phone_number_id: "" };

  function say(text) {
    if (status) status.textContent = text;
  }

  function submitWhenReady() {
    if (!got.code || !got.waba_id || !got.phone_number_id) return;
    form.elements.code.value = got.code;
    form.elements.waba_id.value = got.waba_id;
    form.elements.phone_number_id.value = got.phone_number_id;
    say("Conectando o número… isso leva alguns segundos.");
    form.submit();
  }

  window.fbAsyncInit = function () {
    FB.init({
      appId: button.dataset.appId,
      autoLogAppEvents: true,
      xfbml: false,
      version: button.dataset.version
    });
    button.disabled = false;
  };

  window.addEventListener("message", function (event) {
    var host = "";
    try { host = new URL(event.origin).hostname; } catch (e) { return; }
    if (host !== "facebook.com" && !host.endsWith(".facebook.com")) return;
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (!data || data.type !== "WA_EMBEDDED_SIGNUP") return;
    var d = data.data || {};
    if (data.event === "FINISH") {
      got.waba_id = String(d.waba_id || "");
      got.phone_number_id = String(d.phone_number_id || "");
      submitWhenReady();
    } else if (data.event === "FINISH_ONLY_WABA") {
      say("A conta foi criada, mas nenhum número foi escolhido. Clique de novo e escolha o número da loja.");
    } else if (data.event === "CANCEL") {
      say("Conexão cancelada" + (d.current_step ? " na etapa " + d.current_step : "") + ". Nada foi salvo.");
    } else if (data.event === "ERROR") {
      say("O Facebook informou um erro: " + (d.error_message || "desconhecido") + ". Nada foi salvo.");
    }
  });

  button.addEventListener("click", function () {
    var pin = form.elements.pin;
    if (!pin.checkValidity()) {
      pin.reportValidity();
      return;
    }
    if (typeof FB === "undefined") {
      say("O Facebook ainda não carregou (ou foi bloqueado pelo navegador). Recarregue a página.");
      return;
    }
    say("Siga as etapas na janela do Facebook.");
    FB.login(function (response) {
      if (response && response.authResponse && response.authResponse.code) {
        got.code = response.authResponse.code;
        submitWhenReady();
      } else {
        say("A janela do Facebook foi fechada antes do fim. Nada foi salvo.");
      }
    }, {
      config_id: button.dataset.configId,
      response_type: "code",
      override_default_response_type: true,
      extras: { setup: {}, featureType: "", sessionInfoVersion: "3" }
    });
  });
})();
