#!/usr/bin/env python3
"""OrçaZap's local transcription server: Whisper (faster-whisper, CPU) behind OpenAI's
`POST /v1/audio/transcriptions`, so `ORCAZAP_TRANSCRIBE_BASE_URL=http://127.0.0.1:8178` makes
voice notes heard with no audio leaving the machine (docs/voice-notes.md).

Wire format (OpenAI's): multipart/form-data with `file` (required), `model` (any name: there is
one model), `language` (ISO-639-1; default --language), `response_format` (`json` → {"text"},
`text`, `verbose_json`), `prompt`, `temperature`. Errors: {"error": {"message", "type", "param",
"code"}} with 4xx/5xx. `GET /health` → {"status": "ok", ...}. Files over 25 MB are refused
(OpenAI's limit). One transcription at a time (the CPU is the limit); others wait their turn.

Standard library only, apart from the engine: faster-whisper is imported by WhisperEngine, so
the HTTP layer's tests (test_server.py) run with any python3.
"""

import argparse
import email.message
import email.parser
import email.utils
import io
import json
import os
import signal
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_FILE_BYTES = 25 * 1024 * 1024  # OpenAI's limit on `file`
MAX_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024  # the other fields and the form's framing
DRAIN_MAX_BYTES = 128 * 1024 * 1024  # a bigger body is not read before the 413: the connection closes
RESPONSE_FORMATS = ("json", "text", "verbose_json")
SAMPLE_RATE = 16000

# Whisper's languages (faster_whisper.tokenizer._LANGUAGE_CODES), so a typo is refused here
# with a clear message instead of deep inside the model.
LANGUAGES = frozenset(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw "
    "he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt "
    "my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl "
    "tr tt uk ur uz vi yi yo zh yue".split()
)


def log(msg):
    print(f"[transcritor {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class ApiError(Exception):
    """An answer in OpenAI's error shape."""

    def __init__(self, status, message, param=None, kind=None, code=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.kind = kind or ("invalid_request_error" if status < 500 else "server_error")
        self.code = code

    def body(self):
        return {
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        }


class AudioError(Exception):
    """The file is not audio the engine can decode."""


# ---------------------------------------------------------------------------------------------
# multipart/form-data


def _params(header_value, header_name):
    msg = email.message.Message()
    msg[header_name] = header_value
    return msg


def boundary_of(content_type):
    """The boundary of a multipart/form-data Content-Type, or ApiError."""
    msg = _params(content_type or "", "content-type")
    if msg.get_content_type() != "multipart/form-data":
        raise ApiError(
            400,
            "O corpo deve ser multipart/form-data (campos file, model, language…).",
        )
    boundary = msg.get_param("boundary", header="content-type")
    if not boundary or not isinstance(boundary, str) or len(boundary) > 200:
        raise ApiError(400, "multipart/form-data sem boundary válido.")
    return boundary.encode("latin-1", "replace")


def parse_multipart(body, boundary):
    """{name: (filename or None, content_type, bytes)} of a multipart/form-data body (RFC 7578).
    The first occurrence of a name wins."""
    delimiter = b"\r\n--" + boundary
    sections = (b"\r\n" + body).split(delimiter)
    if len(sections) < 2:
        raise ApiError(400, "Formulário multipart malformado: boundary não encontrado.")
    fields = {}
    closed = False
    for section in sections[1:]:
        if section.startswith(b"--"):
            closed = True
            break
        # Transport padding after the boundary, then CRLF, the part's headers, a blank line.
        head_start = section.find(b"\r\n")
        head_end = section.find(b"\r\n\r\n", max(head_start, 0))
        if head_start < 0 or section[:head_start].strip(b" \t") or head_end < 0:
            raise ApiError(400, "Formulário multipart malformado: parte sem cabeçalhos.")
        headers = email.parser.HeaderParser().parsestr(
            section[head_start + 2 : head_end + 2].decode("utf-8", "replace")
        )
        disposition = headers.get("content-disposition", "")
        if not disposition.lower().startswith("form-data"):
            raise ApiError(400, "Formulário multipart malformado: parte sem Content-Disposition: form-data.")
        name = headers.get_param("name", header="content-disposition")
        if not name:
            raise ApiError(400, "Formulário multipart malformado: parte sem nome.")
        filename = headers.get_filename()
        ctype = headers.get("content-type", "text/plain")
        if isinstance(name, tuple):  # RFC 2231 encoded
            name = email.utils.collapse_rfc2231_value(name)
        fields.setdefault(name, (filename, ctype, section[head_end + 4 :]))
    if not closed:
        raise ApiError(400, "Formulário multipart incompleto: falta o boundary final.")
    return fields


# ---------------------------------------------------------------------------------------------
# the engine


class WhisperEngine:
    """faster-whisper (CTranslate2) on the CPU, int8."""

    def __init__(self, model_dir, threads=0, beam_size=5):
        try:
            from faster_whisper import WhisperModel, decode_audio
        except ImportError as e:
            raise SystemExit(
                f"faster-whisper não está instalado neste python ({e}). "
                "Use scripts/transcriber/run.sh, que prepara o ambiente."
            )
        self._decode_audio = decode_audio
        self.beam_size = beam_size
        self.model = WhisperModel(
            model_dir,
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            local_files_only=True,
        )

    def decode(self, data):
        """(samples at 16 kHz mono, seconds). Any format FFmpeg (PyAV) reads: WAV, Ogg/Opus…"""
        try:
            audio = self._decode_audio(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
        except Exception as e:  # PyAV raises many kinds for a file that is not audio
            raise AudioError(type(e).__name__) from None
        if audio.size == 0:
            raise AudioError("sem amostras")
        return audio, audio.shape[0] / SAMPLE_RATE

    def transcribe(self, audio, language, prompt=None, temperature=None):
        """[(start, end, text)] of the audio."""
        kwargs = {}
        if temperature is not None:
            kwargs["temperature"] = temperature
        segments, _info = self.model.transcribe(
            audio,
            language=language,
            task="transcribe",
            beam_size=self.beam_size,
            condition_on_previous_text=False,
            initial_prompt=prompt or None,
            **kwargs,
        )
        return [(s.start, s.end, s.text.strip()) for s in segments]


# ---------------------------------------------------------------------------------------------
# HTTP


class TranscriptionServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, engine, model_name, language):
        super().__init__(address, Handler)
        self.engine = engine
        self.model_name = model_name
        self.language = language
        self.engine_lock = threading.Lock()

    def handle_error(self, request, client_address):
        # A client that went away, a broken socket: one line, no traceback.
        e = sys.exc_info()[1]
        log(f"conexão de {client_address[0]} encerrada: {type(e).__name__}: {e}")


class Handler(BaseHTTPRequestHandler):
    server_version = "orcazap-transcriber/1"
    protocol_version = "HTTP/1.1"
    timeout = 60  # a client that stops sending mid-request frees its thread

    # -- plumbing

    def log_message(self, fmt, *args):  # the default writes every request; we log our own
        pass

    def _send_json(self, status, obj, close=False):
        data = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self._send(status, "application/json; charset=utf-8", data, close)

    def _send(self, status, content_type, data, close=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _error(self, err, close=False):
        self._send_json(err.status, err.body(), close)

    def _path(self):
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    # -- routes

    def do_GET(self):
        path = self._path()
        if path == "/health":
            self._send_json(
                200,
                {"status": "ok", "model": self.server.model_name, "language": self.server.language},
            )
        elif path == "/v1/audio/transcriptions":
            self._error(ApiError(405, "Use POST com multipart/form-data.", code="method_not_allowed"))
        else:
            self._error(ApiError(404, f"Rota desconhecida: GET {path}", code="not_found"))

    def do_POST(self):
        path = self._path()
        if path != "/v1/audio/transcriptions":
            # The body is not read: close rather than leave it in the connection.
            self._error(ApiError(404, f"Rota desconhecida: POST {path}", code="not_found"), close=True)
            return
        started = time.monotonic()
        self._body_read = False
        try:
            body = self._read_body()
            answer, audio_seconds, work_seconds = self._transcribe(body)
        except ApiError as e:
            log(f"POST {path} → {e.status}: {e.message}")
            # A body left unread (or half read) would be taken for the next request: close.
            self._error(e, close=not self._body_read or e.status >= 500)
            return
        except Exception as e:  # a bug or the engine failing: said, not shown as a traceback
            log(f"POST {path} → 500: erro interno {type(e).__name__}: {e}")
            if "--debug" in sys.argv:
                traceback.print_exc()
            self._error(ApiError(500, "Erro interno ao transcrever o áudio.", code="internal_error"), close=True)
            return
        status, content_type, data = answer
        self._send(status, content_type, data)
        # Never the transcript (personal data): its length only, like OrçaZap's own logs.
        log(
            f"POST {path} → {status}: áudio de {audio_seconds:.1f} s transcrito em "
            f"{work_seconds:.1f} s (total {time.monotonic() - started:.1f} s)"
        )

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise ApiError(411, "Envie o corpo com Content-Length (chunked não é aceito).")
        length = self.headers.get("Content-Length")
        if length is None:
            raise ApiError(411, "Content-Length ausente.")
        try:
            length = int(length)
        except ValueError:
            raise ApiError(400, "Content-Length inválido.") from None
        if length < 0:
            raise ApiError(400, "Content-Length inválido.")
        if length > MAX_BODY_BYTES:
            # Read and dropped (up to a bound) so that the client, still sending, gets to read
            # the answer instead of a reset connection.
            if length <= DRAIN_MAX_BYTES:
                left = length
                while left > 0:
                    chunk = self.rfile.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    left -= len(chunk)
            raise ApiError(
                413,
                f"Arquivo grande demais: o limite é {MAX_FILE_BYTES // (1024 * 1024)} MB.",
                param="file",
                code="file_too_large",
            )
        body = self.rfile.read(length)
        if len(body) != length:
            raise ApiError(400, "Corpo incompleto: a conexão terminou antes do Content-Length.")
        self._body_read = True
        return boundary_of(self.headers.get("Content-Type")), body

    def _transcribe(self, boundary_and_body):
        boundary, body = boundary_and_body
        fields = parse_multipart(body, boundary)

        def text(name):
            value = fields.get(name)
            return value[2].decode("utf-8", "replace").strip() if value else ""

        upload = fields.get("file")
        if upload is None or upload[0] is None:
            raise ApiError(400, "Falta o arquivo de áudio no campo 'file'.", param="file")
        data = upload[2]
        if not data:
            raise ApiError(400, "O arquivo de áudio está vazio.", param="file")
        if len(data) > MAX_FILE_BYTES:
            raise ApiError(
                413,
                f"Arquivo grande demais: o limite é {MAX_FILE_BYTES // (1024 * 1024)} MB.",
                param="file",
                code="file_too_large",
            )
        language = (text("language") or self.server.language).lower()
        if language not in LANGUAGES:
            raise ApiError(400, f"Idioma não suportado: {language!r} (use um código ISO-639-1, como 'pt').", param="language")
        response_format = text("response_format") or "json"
        if response_format not in RESPONSE_FORMATS:
            raise ApiError(
                400,
                f"response_format {response_format!r} não suportado aqui (use json, text ou verbose_json).",
                param="response_format",
            )
        temperature = None
        if text("temperature"):
            try:
                temperature = float(text("temperature"))
            except ValueError:
                temperature = -1.0
            if not 0.0 <= temperature <= 1.0:
                raise ApiError(400, "temperature deve estar entre 0 e 1.", param="temperature")
        prompt = text("prompt") or None

        engine = self.server.engine
        try:
            audio, seconds = engine.decode(data)
        except AudioError as e:
            raise ApiError(
                400,
                f"Não foi possível decodificar o arquivo de áudio ({e}). Envie WAV, Ogg/Opus, MP3, M4A…",
                param="file",
                code="invalid_audio",
            ) from None
        with self.server.engine_lock:  # one at a time: the CPU is the limit
            work_started = time.monotonic()
            segments = engine.transcribe(audio, language, prompt, temperature)
            work = time.monotonic() - work_started
        transcript = " ".join(t for _, _, t in segments if t).strip()
        if response_format == "text":
            answer = (200, "text/plain; charset=utf-8", (transcript + "\n").encode("utf-8"))
        else:
            obj = {"text": transcript}
            if response_format == "verbose_json":
                obj = {
                    "task": "transcribe",
                    "language": language,
                    "duration": round(seconds, 3),
                    "text": transcript,
                    "segments": [
                        {"id": i, "start": round(a, 3), "end": round(b, 3), "text": t}
                        for i, (a, b, t) in enumerate(segments)
                    ],
                }
            answer = (200, "application/json; charset=utf-8", json.dumps(obj, ensure_ascii=False).encode("utf-8"))
        return answer, seconds, work


# ---------------------------------------------------------------------------------------------


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Servidor local de transcrição (Whisper) com a API da OpenAI, para o OrçaZap."
    )
    p.add_argument("--model-dir", required=True, help="pasta do modelo CTranslate2 (model.bin, config.json…)")
    p.add_argument("--model-name", default="whisper-base", help="nome mostrado em /health")
    p.add_argument("--host", default="127.0.0.1", help="endereço (padrão 127.0.0.1: só esta máquina)")
    p.add_argument("--port", type=int, default=8178)
    p.add_argument("--language", default="pt", help="idioma quando o pedido não diz (padrão pt)")
    p.add_argument("--threads", type=int, default=0, help="threads da CPU (0 = todas)")
    p.add_argument("--beam-size", type=int, default=5)
    p.add_argument("--debug", action="store_true", help="mostra o traceback de erros internos")
    args = p.parse_args(argv)
    if args.language not in LANGUAGES:
        raise SystemExit(f"idioma desconhecido: {args.language!r}")

    if not os.path.isfile(os.path.join(args.model_dir, "model.bin")):
        raise SystemExit(
            f"modelo não encontrado em {args.model_dir} (falta model.bin). "
            "Rode scripts/transcriber/setup.sh."
        )
    # The port first: a port in use is said at once, not after loading the model.
    try:
        server = TranscriptionServer((args.host, args.port), None, args.model_name, args.language)
    except OSError as e:
        raise SystemExit(f"não consegui abrir {args.host}:{args.port}: {e.strerror or e}")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log(f"atenção: escutando em {args.host}, sem autenticação; qualquer um que alcance a porta pode transcrever")
    loaded = time.monotonic()
    log(f"carregando o modelo de {args.model_dir} …")
    try:
        server.engine = WhisperEngine(args.model_dir, args.threads, args.beam_size)
    except SystemExit:
        raise
    except Exception as e:
        raise SystemExit(f"não consegui carregar o modelo de {args.model_dir}: {type(e).__name__}: {e}")
    host, port = server.server_address[:2]
    log(
        f"pronto em {time.monotonic() - loaded:.1f} s: http://{host}:{port}/v1/audio/transcriptions "
        f"(idioma padrão {args.language}); no OrçaZap: ORCAZAP_TRANSCRIBE_BASE_URL=http://{host}:{port}"
    )
    # SIGTERM (systemd, kill, a script's cleanup) ends it like Ctrl-C: said, no traceback.
    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log("encerrado.")
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
