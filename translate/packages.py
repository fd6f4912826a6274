"""Argos Translate language packages: read, install, list, remove, and find a route.

A package (``.argosmodel``) is a zip with one top folder holding ``metadata.json``
(``from_code``, ``to_code``, ``package_version``, ...), a CTranslate2 model in ``model/``
and ``sentencepiece.model``. Installed, it is that folder. We install into our own folder
and also use the packages argostranslate installed on the machine (read only).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from captioner.core.errors import PackageError

log = logging.getLogger(__name__)

INSTALL_HINT = "captioner translate install FILE.argosmodel"


@dataclass(frozen=True)
class Package:
    """An installed package folder."""

    path: Path
    from_code: str
    to_code: str
    package_version: str = ""
    argos_version: str = ""
    origin: str = "captioner"  # "captioner" (our folder) or "argostranslate"

    @property
    def pair(self) -> str:
        return f"{self.from_code}_{self.to_code}"

    @property
    def name(self) -> str:
        """``translate-ja_en 1.1``: how the package is named in messages and in the events."""
        return f"translate-{self.pair}" + (f" {self.package_version}" if self.package_version else "")

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def sentencepiece_model(self) -> Path:
        return self.path / "sentencepiece.model"


def package_file_name(source: str, target: str) -> str:
    """The name Argos gives a package file for a pair (what the user should look for)."""
    return f"translate-{source}_{target}-*.argosmodel"


def read_package(folder: Path, origin: str = "captioner") -> Package:
    """A package from an installed folder; PackageError names what is wrong with it."""
    metadata_path = folder / "metadata.json"
    if not metadata_path.is_file():
        raise PackageError(f"{folder}: not a translation package (no metadata.json)")
    metadata = _parse_metadata(metadata_path.read_bytes(), str(metadata_path))
    for required in ("model/model.bin", "model/config.json", "sentencepiece.model"):
        if not (folder / required).is_file():
            raise PackageError(f"{folder}: incomplete translation package (no {required})")
    return Package(
        folder,
        metadata["from_code"],
        metadata["to_code"],
        str(metadata.get("package_version", "")),
        str(metadata.get("argos_version", "")),
        origin,
    )


def _parse_metadata(data: bytes, where: str) -> dict:
    try:
        metadata = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise PackageError(f"{where}: metadata.json is not valid JSON ({e})") from e
    if not isinstance(metadata, dict):
        raise PackageError(f"{where}: metadata.json must be a JSON object")
    package_type = metadata.get("type", "translate")
    if package_type != "translate":
        raise PackageError(f"{where}: a '{package_type}' package, not a translation package")
    for key in ("from_code", "to_code"):
        if not isinstance(metadata.get(key), str) or not metadata[key]:
            raise PackageError(f"{where}: metadata.json has no '{key}'")
    return metadata


def check_loads(package: Package) -> None:
    """Load the model and the tokenizer once (catches a corrupt or foreign model file)."""
    import ctranslate2
    import sentencepiece

    try:
        ctranslate2.Translator(str(package.model_dir), device="cpu", intra_threads=1)
    except Exception as e:  # CTranslate2 raises RuntimeError/ValueError with its own text
        raise PackageError(f"{package.name}: the CTranslate2 model does not load ({e})") from e
    try:
        sentencepiece.SentencePieceProcessor(model_file=str(package.sentencepiece_model))
    except Exception as e:
        raise PackageError(f"{package.name}: sentencepiece.model does not load ({e})") from e


class PackageStore:
    """The package folders: the first is ours (installs go there), the others are read only."""

    def __init__(self, dirs: list[Path]) -> None:
        if not dirs:
            raise ValueError("at least one package folder is needed")
        self.dirs = [Path(d) for d in dirs]

    @property
    def install_dir(self) -> Path:
        return self.dirs[0]

    def scan(self) -> tuple[list[Package], list[str]]:
        """Installed packages (best version first for each pair) and problems found on the way."""
        packages: list[Package] = []
        problems: list[str] = []
        for index, directory in enumerate(self.dirs):
            if not directory.is_dir():
                continue
            origin = "captioner" if index == 0 else "argostranslate"
            for folder in sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")):
                try:
                    packages.append(read_package(folder, origin))
                except PackageError as e:
                    problems.append(str(e))
        packages.sort(key=lambda p: (p.pair, _version_key(p.package_version)), reverse=True)
        packages.sort(key=lambda p: p.pair)  # stable: best version first within a pair
        return packages, problems

    def packages(self) -> list[Package]:
        return self.scan()[0]

    def find(self, source: str, target: str) -> Package | None:
        """The best installed package for one direct pair."""
        return next((p for p in self.packages() if (p.from_code, p.to_code) == (source, target)), None)

    def install(self, file: str | Path) -> Package:
        """Install an ``.argosmodel`` file into our folder (replacing the same pair); return it."""
        return self.install_many([file])[0]

    def install_many(self, files: list[str | Path]) -> list[Package]:
        """Install several package files: all are unpacked and loaded first, then put in place.

        A bad file among them installs none of them.
        """
        self.install_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=self.install_dir))
        try:
            staged = [self._stage(Path(file), staging / str(n)) for n, file in enumerate(files)]
            destinations = []
            for package in staged:
                destination = self.install_dir / f"translate-{package.pair}"
                for old in self.packages():
                    if old.origin == "captioner" and old.pair == package.pair and old.path != destination:
                        shutil.rmtree(old.path)
                if destination.exists():  # swap: the old one stays whole until the new one is in place
                    destination.rename(staging / f".replaced-{len(destinations)}")
                package.path.rename(destination)
                destinations.append(destination)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        installed = [read_package(destination) for destination in destinations]
        for package in installed:
            log.debug("installed %s (%s→%s) in %s", package.name, package.from_code, package.to_code, package.path)
        return installed

    def _stage(self, file: Path, staging: Path) -> Package:
        """Unpack and check one package file under ``staging``; return it (its path is there)."""
        if not file.is_file():
            raise PackageError(f"{file}: no such file")
        if not zipfile.is_zipfile(file):
            raise PackageError(f"{file}: not an Argos Translate package (an .argosmodel file is a zip archive)")
        try:
            with zipfile.ZipFile(file) as archive:
                top = _top_folder(archive, file)
                _parse_metadata(archive.read(f"{top}/metadata.json"), f"{file}")
                archive.extractall(staging)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError) as e:
            raise PackageError(f"{file}: damaged package archive ({e})") from e
        package = read_package(staging / top)
        check_loads(package)
        return package

    def remove(self, what: str) -> list[Package]:
        """Remove our packages matching ``ja_en``, ``ja-en``, ``translate-ja_en`` or a folder name."""
        key = what.removeprefix("translate-").replace("-", "_")
        matches = [p for p in self.packages() if key in (p.pair, p.path.name.removeprefix("translate-").replace("-", "_"))]
        if not matches:
            raise PackageError(f"no installed package matches '{what}' (see: captioner translate list)")
        ours = [p for p in matches if p.origin == "captioner"]
        if not ours:
            raise PackageError(
                f"{matches[0].name} was installed by argostranslate in {matches[0].path.parent}; "
                "remove it with argostranslate (argospm remove) or delete that folder"
            )
        for package in ours:
            shutil.rmtree(package.path)
        return ours


def _top_folder(archive: zipfile.ZipFile, file: Path) -> str:
    names = [n for n in archive.namelist() if n and not n.endswith("/")]
    for name in names:
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or "\\" in name:
            raise PackageError(f"{file}: unsafe path in the archive ({name})")
    tops = {PurePosixPath(n).parts[0] for n in names if len(PurePosixPath(n).parts) > 1}
    candidates = [t for t in sorted(tops) if f"{t}/metadata.json" in names]
    if len(candidates) != 1:
        raise PackageError(
            f"{file}: not an Argos Translate package (expected one folder with metadata.json, model/ "
            "and sentencepiece.model inside the zip)"
        )
    return candidates[0]


def _version_key(version: str) -> tuple:
    parts = []
    for part in version.replace("_", ".").split("."):
        parts.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return tuple(parts)
