#!/usr/bin/env python3
"""Tests of the transcription server's HTTP layer (server.py): routes, OpenAI's multipart form
as OrçaZap (crates/voice/src/transcribe.rs) and curl send it, limits and error answers.

The engine is replaced by a recording fake: these tests say nothing about speech recognition
(that is check.sh, with the real model). Standard library only, well under a second:

    python3 -m unittest discover -s scripts/transcriber -p 'test_*.py'
"""

import http.client
import json
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server  # noqa: E402

WAV = b"RIFF" + b"\x00" * 40 + b"\x01\x02\r\n--not-the-boundary\r\n" * 50


class FakeEngine:
    """Decodes anything that starts with RIFF; answers a fixed transcript; records the call."""

    def __init__(self):
        self.calls = []
        self.fail = False

    def decode(self, data):
        if not data.startswith(b"RIFF"):
            raise server.AudioError("InvalidDataError")
        return data, 1.5

    def transcribe(self, audio, language, prompt=None, temperature=None):
        if self.fail:
            raise RuntimeError("the engine broke /home/secret/path")
        self.calls.append({"audio": audio, "language": language, "prompt": prompt, "temperature": temperature})
        return [(0.0, 0.8, "dez sacos de cimento,"), (0.8, 1.5, "entrega amanhã")]


def orcazap_form(fields, wav, boundary="orcazap-voice-boundary-5e0a77c1"):
    """The bytes crates/voice/src/transcribe.rs `multipart` builds: fields, then the file."""
    body = b""
    for name, value in fields:
        body += (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ).encode()
    body += (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"audio.wav\"\r\n"
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    body += wav + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = FakeEngine()
        cls.srv = server.TranscriptionServer(("127.0.0.1", 0), cls.engine, "whisper-base", "pt")
        cls.port = cls.srv.server_address[1]
        cls.thread = threading.Thread(target=cls.srv.serve_forever, daemon=True)
        cls.thread.start()
        server.log = lambda msg: None  # quiet

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        cls.srv.server_close()

    def setUp(self):
        self.engine.calls.clear()
        self.engine.fail = False

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheader("Content-Type", ""), data

    def post_form(self, fields, wav=WAV, path="/v1/audio/transcriptions"):
        ctype, body = orcazap_form(fields, wav)
        return self.request("POST", path, body, {"Content-Type": ctype})

    def assert_error(self, status, data, expected_status, kind, words):
        self.assertEqual(status, expected_status, data)
        err = json.loads(data)["error"]
        self.assertEqual(err["type"], kind)
        self.assertIn(words, err["message"])
        self.assertNotIn("Traceback", data.decode())
        return err

    def test_health(self):
        status, ctype, data = self.request("GET", "/health")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("application/json"))
        self.assertEqual(json.loads(data), {"status": "ok", "model": "whisper-base", "language": "pt"})

    def test_orcazap_request_gets_the_text(self):
        status, ctype, data = self.post_form(
            [("model", "whisper-1"), ("language", "pt"), ("response_format", "json")]
        )
        self.assertEqual(status, 200, data)
        self.assertTrue(ctype.startswith("application/json"))
        self.assertEqual(json.loads(data), {"text": "dez sacos de cimento, entrega amanhã"})
        # The file reached the engine byte for byte (CRLF and "--" inside the audio included).
        self.assertEqual(self.engine.calls[0]["audio"], WAV)
        self.assertEqual(self.engine.calls[0]["language"], "pt")

    def test_base_url_ending_in_v1_is_the_same_route(self):
        status, _, data = self.post_form([("model", "whisper-1")], path="/v1/audio/transcriptions/")
        self.assertEqual(status, 200, data)

    def test_curl_style_form_quoted_boundary_file_first(self):
        boundary = "------------------------d74496d66958873e"
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"n1.wav\"\r\n"
            "Content-Type: audio/x-wav\r\n\r\n"
        ).encode() + WAV + (
            f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nes\r\n"
            f"--{boundary}--\r\n"
        ).encode()
        status, _, data = self.request(
            "POST", "/v1/audio/transcriptions", body,
            {"Content-Type": f'multipart/form-data; boundary="{boundary}"'},
        )
        self.assertEqual(status, 200, data)
        self.assertEqual(self.engine.calls[0]["language"], "es")

    def test_default_language_and_other_formats(self):
        status, ctype, data = self.post_form([("response_format", "text")])
        self.assertEqual((status, data), (200, "dez sacos de cimento, entrega amanhã\n".encode()))
        self.assertTrue(ctype.startswith("text/plain"))
        self.assertEqual(self.engine.calls[0]["language"], "pt")
        status, _, data = self.post_form([("response_format", "verbose_json"), ("prompt", "cimento, areia")])
        v = json.loads(data)
        self.assertEqual((v["language"], v["duration"], len(v["segments"])), ("pt", 1.5, 2))
        self.assertEqual(self.engine.calls[1]["prompt"], "cimento, areia")

    def test_refusals_are_openai_errors(self):
        status, _, data = self.post_form([("response_format", "srt")])
        self.assertEqual(self.assert_error(status, data, 400, "invalid_request_error", "srt")["param"], "response_format")
        status, _, data = self.post_form([("language", "portugues")])
        self.assert_error(status, data, 400, "invalid_request_error", "Idioma")
        status, _, data = self.post_form([("temperature", "7")])
        self.assert_error(status, data, 400, "invalid_request_error", "temperature")
        status, _, data = self.post_form([], wav=b"ID3 this is an mp3 that is not")
        err = self.assert_error(status, data, 400, "invalid_request_error", "decodificar")
        self.assertEqual(err["code"], "invalid_audio")
        status, _, data = self.post_form([], wav=b"")
        self.assert_error(status, data, 400, "invalid_request_error", "vazio")
        self.assertEqual(self.engine.calls, [])

    def test_missing_file(self):
        ctype, body = orcazap_form([("model", "whisper-1")], WAV)
        body = body.replace(b'name="file"; filename="audio.wav"', b'name="other"')
        status, _, data = self.request("POST", "/v1/audio/transcriptions", body, {"Content-Type": ctype})
        self.assertEqual(self.assert_error(status, data, 400, "invalid_request_error", "file")["param"], "file")

    def test_not_multipart_and_malformed(self):
        status, _, data = self.request(
            "POST", "/v1/audio/transcriptions", b'{"file": "x"}', {"Content-Type": "application/json"}
        )
        self.assert_error(status, data, 400, "invalid_request_error", "multipart/form-data")
        ctype, body = orcazap_form([("model", "whisper-1")], WAV)
        status, _, data = self.request(
            "POST", "/v1/audio/transcriptions", body[: len(body) // 2], {"Content-Type": ctype}
        )
        self.assert_error(status, data, 400, "invalid_request_error", "incompleto")

    def test_too_large_is_413_before_reading(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.putrequest("POST", "/v1/audio/transcriptions")
        c.putheader("Content-Type", "multipart/form-data; boundary=x")
        c.putheader("Content-Length", str(server.DRAIN_MAX_BYTES + 1))
        c.endheaders()  # no body sent: the answer must not wait for it
        r = c.getresponse()
        data = r.read()
        c.close()
        err = self.assert_error(r.status, data, 413, "invalid_request_error", "25 MB")
        self.assertEqual(err["code"], "file_too_large")

    def test_file_over_25_mb_in_a_body_under_the_framing_allowance(self):
        status, _, data = self.post_form([], wav=b"RIFF" + b"\x00" * server.MAX_FILE_BYTES)
        self.assert_error(status, data, 413, "invalid_request_error", "25 MB")
        self.assertEqual(self.engine.calls, [])

    def test_length_required(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.putrequest("POST", "/v1/audio/transcriptions")
        c.putheader("Content-Type", "multipart/form-data; boundary=x")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        r = c.getresponse()
        self.assert_error(r.status, r.read(), 411, "invalid_request_error", "Content-Length")
        c.close()

    def test_engine_failure_is_500_without_details(self):
        self.engine.fail = True
        status, _, data = self.post_form([])
        err = self.assert_error(status, data, 500, "server_error", "Erro interno")
        self.assertNotIn("secret", json.dumps(err))

    def test_unknown_routes(self):
        status, _, data = self.request("GET", "/v1/models")
        self.assert_error(status, data, 404, "invalid_request_error", "/v1/models")
        status, _, data = self.request("GET", "/v1/audio/transcriptions")
        self.assert_error(status, data, 405, "invalid_request_error", "POST")
        status, _, data = self.post_form([], path="/v1/audio/translations")
        self.assert_error(status, data, 404, "invalid_request_error", "translations")

    def test_keep_alive_survives_an_error(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        ctype, body = orcazap_form([("language", "xx")], WAV)
        for expected in (400, 200):
            if expected == 200:
                ctype, body = orcazap_form([], WAV)
            c.request("POST", "/v1/audio/transcriptions", body=body, headers={"Content-Type": ctype})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, expected)
        c.close()


if __name__ == "__main__":
    unittest.main()
