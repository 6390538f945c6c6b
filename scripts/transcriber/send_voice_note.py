#!/usr/bin/env python3
"""Sends a voice note (or a text) to a running `orcazap demo` through its WhatsApp simulator —
the same requests as the simulator page (POST /simulator/send with the file base64, then
GET /simulator/messages with the view cookie) — and prints the bot's answers.

    send_voice_note.py --demo http://localhost:8080 --audio nota.ogg [--text "sim"] …

Each --audio / --text / --button is one customer message, in order; after each, the bot's answers are
awaited (until --quiet seconds pass without a new one, at most --wait seconds).
Standard library only.
"""

import argparse
import base64
import http.cookiejar
import json
import random
import sys
import time
import urllib.error
import urllib.request


class Simulator:
    def __init__(self, demo, phone, name):
        self.demo = demo.rstrip("/")
        self.phone = phone
        self.name = name
        self.seen = set()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def send(self, payload):
        payload = {"phone": self.phone, "name": self.name, **payload}
        req = urllib.request.Request(
            self.demo + "/simulator/send",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"},
            method="POST",
        )
        try:
            with self.opener.open(req, timeout=30) as r:
                r.read()
        except urllib.error.HTTPError as e:
            raise SystemExit(f"o simulador recusou a mensagem: HTTP {e.code} {e.read().decode(errors='replace')}")

    def new_messages(self):
        url = f"{self.demo}/simulator/messages?phone={self.phone}&after=0"
        with self.opener.open(url, timeout=30) as r:
            msgs = json.load(r)["messages"]
        fresh = [m for m in msgs if m.get("id") not in self.seen]
        self.seen.update(m.get("id") for m in fresh)
        return fresh

    def await_answers(self, wait, quiet):
        started = last = time.monotonic()
        got = []
        while time.monotonic() - started < wait:
            fresh = self.new_messages()
            if fresh:
                got += fresh
                last = time.monotonic()
            elif got and time.monotonic() - last >= quiet:
                break
            time.sleep(0.5)
        return got, time.monotonic() - started


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--demo", default="http://localhost:8080", help="o endereço do demo (padrão http://localhost:8080)")
    p.add_argument("--phone", default="55119" + str(random.randint(10000000, 99999999)))
    p.add_argument("--name", default="Cliente do áudio")
    p.add_argument("--wait", type=float, default=60, help="espera máxima por respostas, em segundos")
    p.add_argument("--quiet", type=float, default=4, help="segundos sem resposta nova para seguir")
    p.add_argument("--audio", action="append", default=[], metavar="ARQUIVO.ogg")
    p.add_argument("--text", action="append", default=[])
    p.add_argument("--button", action="append", default=[], metavar="ID=TÍTULO",
                   help="um toque num botão do robô, ex. day:tomorrow=Amanhã")
    args = p.parse_args()
    # --audio and --text in the order given on the command line.
    steps = []
    it = iter(sys.argv[1:])
    for a in it:
        if a in ("--audio", "--text", "--button"):
            steps.append((a[2:], next(it)))
        elif a.startswith(("--audio=", "--text=", "--button=")):
            k, v = a[2:].split("=", 1)
            steps.append((k, v))
    if not steps:
        p.error("diga --audio ARQUIVO, --text TEXTO ou --button ID=TÍTULO")
    sim = Simulator(args.demo, args.phone, args.name)
    print(f"cliente {args.phone} → {args.demo}/simulator")
    for kind, value in steps:
        if kind == "audio":
            with open(value, "rb") as f:
                data = f.read()
            print(f"\n> 🎤 {value} ({len(data)} bytes)")
            sim.send({"audio_base64": base64.b64encode(data).decode(), "audio_mime": "audio/ogg; codecs=opus"})
        elif kind == "button":
            button_id, _, title = value.partition("=")
            print(f"\n> [botão] {title or button_id}")
            sim.send({"button_id": button_id, "button_title": title or button_id})
        else:
            print(f"\n> {value}")
            sim.send({"text": value})
        answers, took = sim.await_answers(args.wait, args.quiet)
        if not answers:
            print(f"  (nenhuma resposta em {took:.0f} s)")
        for m in answers:
            print("  < " + json.dumps(m, ensure_ascii=False))
        print(f"  ({len(answers)} resposta(s) em {took:.1f} s, contando {args.quiet:.0f} s de silêncio no fim)")


if __name__ == "__main__":
    main()
