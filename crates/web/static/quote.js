// The public quote page: the "Copiar código PIX" button. Without JavaScript the button stays
// hidden and the code is plain selectable text in its box.
(function () {
  var button = document.getElementById('copy-pix');
  var code = document.getElementById('pix-code');
  var status = document.getElementById('copy-status');
  if (!button || !code || !status) return;
  button.hidden = false;
  function copied() {
    button.textContent = 'Código copiado ✓';
    status.textContent = 'Agora abra o app do seu banco em Pix copia e cola e cole o código.';
  }
  function byHand() {
    // Older browsers (or an http page outside localhost): select it, try the old command.
    code.focus();
    code.select();
    try {
      if (document.execCommand('copy')) { copied(); return; }
    } catch (e) { /* fall through */ }
    status.textContent = 'Selecione o código acima e copie.';
  }
  button.addEventListener('click', function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code.value).then(copied, byHand);
    } else {
      byHand();
    }
  });
})();
