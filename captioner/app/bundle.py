"""``captioner bundle FILE.zip`` / ``captioner bundle install FILE.zip``: set up counters alike.

A bundle is one zip made on a counter PC that works: the chosen speech model(s) (imported
ones, with their manifest), the translation packages (as ``.argosmodel`` files), the
dictionary folder and the user's configuration, plus ``bundle.json`` listing every file with
its SHA-256. ``bundle install`` checks all of that first, then installs models and packages
through the same checks as ``model import`` / ``translate install``, replaces the dictionary
folder (the old one is kept as ``<folder>.bak-<time>``) and writes the configuration last
(the old file is kept as ``config.yaml.bak-<time>``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from captioner.core.errors import CaptionerError
from captioner.core.files import atomic_write, replacing, sha256_file, sha256_stream, unsafe_member

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "bundle.json"


class BundleError(CaptionerError):
    """A bundle cannot be made or installed."""

    exit_code = 8


def _zip_folder(folder: Path, file: Path, top: str) -> None:
    """Write ``folder`` as an ``.argosmodel``-style zip with one top folder ``top``."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")


def create_bundle(
    file: str | Path,
    config_path: str | None = None,
    *,
    models: list[str] | None = None,
    translation: bool = True,
    dictionary: bool = True,
    config: bool = True,
) -> dict:
    """Write the bundle; return its ``bundle.json`` contents."""
    from captioner.app.config import load_config, user_config_path
    from captioner.app.models import MANIFEST as MODEL_MANIFEST
    from captioner.app.models import (
        model_files,
        model_folder,
        read_manifest,
        verify_folder,
        write_manifest,
    )
    from captioner.engine.model_store import BUNDLED_NAME, imported_models_root

    source_config = Path(config_path) if config_path else user_config_path()
    settings = load_config(config_path)
    if models is None:  # the configured model, unless it is the bundled base every install has
        configured = settings.asr.model
        models = [configured] if (imported_models_root() / configured).is_dir() else []
    file = Path(file)
    info: dict = {"format": FORMAT, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "models": [], "translation_packages": [], "dictionary_files": [], "config": False, "files": {}}  # fmt: skip

    def add(archive: zipfile.ZipFile, path: Path, name: str) -> None:
        archive.write(path, name)
        info["files"][name] = sha256_file(path)

    try:
        with replacing(file) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED, allowZip64=True) as archive, tempfile.TemporaryDirectory() as tmp:
            for name in models:
                folder = model_folder(name)
                files = model_files(folder)
                if read_manifest(folder) is None:  # the bundled base or a plain folder: record one in a copy
                    staged = Path(tmp) / f"model-{len(info['models'])}"
                    staged.mkdir()
                    for f in files:
                        os.symlink(folder / f, staged / f)
                    write_manifest(staged, name, str(folder))
                    folder = staged
                elif problems := verify_folder(folder, full=True):
                    raise BundleError(f"model {name}: " + "; ".join(problems) + " (import it again)")
                short = name if name != str(folder) else folder.name
                for f in [*files, MODEL_MANIFEST]:
                    add(archive, folder / f, f"models/{short}/{f}")
                info["models"].append(short)
            if translation:
                from translate.packages import PackageStore

                for package in PackageStore(settings.translate.package_dirs()).packages():
                    packed = Path(tmp) / f"{package.path.name}.argosmodel"
                    _zip_folder(package.path, packed, package.path.name)
                    add(archive, packed, f"translate/{packed.name}")
                    info["translation_packages"].append(package.name)
            if dictionary and settings.dictionary.enabled:
                folder = settings.dictionary.path()
                if folder.is_dir():
                    for path in sorted(folder.rglob("*")):
                        relative = path.relative_to(folder)
                        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                            add(archive, path, f"dictionary/{relative.as_posix()}")
                            info["dictionary_files"].append(relative.as_posix())
            if config and source_config.is_file():
                add(archive, source_config, "config.yaml")
                info["config"] = True
            archive.writestr(MANIFEST, json.dumps(info, ensure_ascii=False, indent=2))
    except OSError as e:
        raise BundleError(f"cannot write {file}: {e.strerror or e}") from e
    if BUNDLED_NAME in models:
        log.info("the bundled base model is in the bundle; every install has it anyway (pip)")
    return info


def _read_bundle(file: Path) -> tuple[zipfile.ZipFile, dict]:
    if not file.is_file():
        raise BundleError(f"{file}: no such file")
    if not zipfile.is_zipfile(file):
        raise BundleError(f"{file}: not a bundle (not a zip archive; truncated copy?)")
    archive = zipfile.ZipFile(file)
    try:
        info = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except KeyError as e:
        archive.close()
        raise BundleError(f"{file}: not a captioner bundle (no {MANIFEST})") from e
    except (UnicodeDecodeError, ValueError) as e:
        archive.close()
        raise BundleError(f"{file}: {MANIFEST} is not valid JSON ({e})") from e
    if not isinstance(info, dict) or info.get("format") != FORMAT or not isinstance(info.get("files"), dict):
        archive.close()
        raise BundleError(f"{file}: unknown bundle format (made by a newer captioner?)")
    return archive, info


def verify_bundle(file: str | Path) -> dict:
    """Check every file of the bundle against ``bundle.json``; return it."""
    file = Path(file)
    archive, info = _read_bundle(file)
    with archive:
        names = set(archive.namelist())
        for name, expected in info["files"].items():
            if unsafe_member(name):
                raise BundleError(f"{file}: unsafe path in the bundle ({name})")
            if name not in names:
                raise BundleError(f"{file}: {name} is missing (incomplete bundle)")
            try:
                with archive.open(name) as member:
                    digest = sha256_stream(member)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise BundleError(f"{file}: {name} is damaged ({e}); copy the bundle again") from e
            if digest != expected:
                raise BundleError(f"{file}: {name} does not match its SHA-256 (damaged copy); copy the bundle again")
    return info


def install_bundle(file: str | Path, config_path: str | None = None) -> list[str]:
    """Check the whole bundle, then install it; return what was done, one line each."""
    from captioner.app.config import load_config, user_config_path
    from captioner.app.models import import_model

    file = Path(file)
    info = verify_bundle(file)
    done: list[str] = []
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target_config = Path(config_path) if config_path else user_config_path()
    with tempfile.TemporaryDirectory(prefix="captioner-bundle-") as tmp, zipfile.ZipFile(file) as archive:
        archive.extractall(tmp, members=list(info["files"]))
        root = Path(tmp)
        _check_pictures(root / "dictionary")  # before anything is installed
        new_config = root / "config.yaml"
        # the bundle's settings decide where dictionary and packages go (they are what will be used)
        settings = load_config(new_config if new_config.is_file() else (str(target_config) if target_config.is_file() else None))
        for name in info.get("models", []):
            model = import_model(root / "models" / name, name, force=True)
            done.append(f"model {model.name} → {model.path}")
        packages = sorted((root / "translate").glob("*.argosmodel")) if (root / "translate").is_dir() else []
        if packages:
            from translate.packages import PackageStore

            store = PackageStore(settings.translate.package_dirs())
            for package in store.install_many(packages):
                done.append(f"translation {package.name} → {package.path}")
        if (root / "dictionary").is_dir():
            folder = settings.dictionary.path()
            done.append(_replace_folder(root / "dictionary", folder, stamp))
        if new_config.is_file():
            target_config.parent.mkdir(parents=True, exist_ok=True)
            if target_config.is_file() and target_config.read_bytes() != new_config.read_bytes():
                backup = target_config.with_name(f"{target_config.name}.bak-{stamp}")
                shutil.copyfile(target_config, backup)
                done.append(f"previous configuration kept as {backup}")
            atomic_write(target_config, new_config.read_bytes())
            model = load_config(target_config).asr.model  # still valid where it now is
            done.append(f"configuration → {target_config}")
            if (os.sep in model or model.startswith("~")) and not Path(model).expanduser().is_dir():
                names = ", ".join(info.get("models", [])) or "base"
                done.append(f"WARNING: asr.model is the folder {model}, which does not exist here; set asr.model to {names}")
    return done


def _check_pictures(dictionary: Path) -> None:
    """A bundle's word pictures pass the admin page's upload checks (content, size, name)."""
    from dictionary.pictures import FOLDER, PictureError, check_upload

    pictures = dictionary / FOLDER
    for path in sorted(pictures.iterdir()) if pictures.is_dir() else []:
        try:
            check_upload(path.name, path.read_bytes())
        except PictureError as e:
            raise CaptionerError(f"bundle: dictionary/{FOLDER}/{path.name}: {e}; nothing was installed") from None


def _replace_folder(new: Path, folder: Path, stamp: str) -> str:
    """Put ``new``'s files in ``folder``; a different old folder is kept as ``folder.bak-<stamp>``."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    shutil.rmtree(staging)
    shutil.copytree(new, staging)
    note = ""
    if folder.exists():
        backup = folder.with_name(f"{folder.name}.bak-{stamp}")
        os.replace(folder, backup)
        note = f" (previous one kept as {backup})"
    os.replace(staging, folder)
    count = sum(1 for p in folder.rglob("*") if p.is_file())
    return f"dictionary {count} files → {folder}{note}"


# ------------------------------------------------------------------------------------ CLI


def add_parser(commands) -> None:
    bundle = commands.add_parser(
        "bundle", help="one zip with model(s), translation packages, dictionary and config; `bundle install FILE.zip` on each counter"
    )
    bundle.add_argument("what", nargs="+", metavar="[install] FILE.zip", help="FILE.zip to make one; install FILE.zip to install one")
    bundle.add_argument("--config", metavar="PATH", help="configuration to bundle / to write on install (default: the user's)")
    bundle.add_argument("--model", action="append", metavar="NAME", help="model to include (repeatable; default: asr.model when it is an imported one)")
    bundle.add_argument("--no-model", action="store_true", help="no speech model")
    bundle.add_argument("--no-translation", action="store_true", help="no translation packages")
    bundle.add_argument("--no-dictionary", action="store_true", help="no dictionary folder")
    bundle.add_argument("--no-config", action="store_true", help="no configuration file")
    bundle.set_defaults(handler=cmd_bundle)


def cmd_bundle(args: argparse.Namespace) -> int:
    what = args.what
    if len(what) == 2 and what[0] == "install":
        for line in install_bundle(what[1], args.config):
            print(line)
        print("bundle installed; check it: captioner check")
        return 0
    if len(what) != 1 or what[0] == "install":
        raise BundleError("usage: captioner bundle FILE.zip  |  captioner bundle install FILE.zip")
    info = create_bundle(
        what[0], args.config, models=[] if args.no_model else args.model, translation=not args.no_translation,
        dictionary=not args.no_dictionary, config=not args.no_config,
    )  # fmt: skip
    size = Path(what[0]).stat().st_size
    print(f"wrote {what[0]} ({size / 2**20:.0f} MB): models {', '.join(info['models']) or 'none'}; "
          f"translation {', '.join(info['translation_packages']) or 'none'}; "
          f"dictionary {len(info['dictionary_files'])} files; config {'yes' if info['config'] else 'no'}")  # fmt: skip
    print(f"on each counter PC: captioner bundle install {Path(what[0]).name}")
    return 0
