"""Download Argos Translate packages from the package index, without argostranslate or PyTorch.

The public index is one JSON file, a list of package entries. As read from
``argosopentech/argospm-index`` (``index.json``) and argostranslate's own reader
(``argostranslate/package.py``, ``IPackage.load_metadata_from_json``; the URL is
``settings.remote_package_index``), an entry looks like::

    {"package_version": "1.1", "argos_version": "1.1",
     "from_code": "ja", "from_name": "Japanese", "to_code": "en", "to_name": "English",
     "links": ["https://argos-net.com/v1/translate-ja_en-1_1.argosmodel", "ipfs://Qm..."],
     "code": "translate-ja_en"}

with an optional ``"type"`` (``"translate"`` when absent; ``"sbd"`` packages are sentence
splitters we do not need). argostranslate downloads ``links[0]``. The public index gives no
checksum; an index that does (a city's own mirror) may add ``"sha256": "<hex>"`` per entry
and it is then checked. Every download is checked before anything is installed: a zip with
one folder holding ``metadata.json`` (for the pair the index promised), ``model/model.bin``,
``model/config.json`` and ``sentencepiece.model``. All files of a request are downloaded and
checked first, then installed, so a failure installs nothing.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from captioner.core.files import replacing, sha256_file, unsafe_member
from translate.packages import Package, PackageError, PackageStore

log = logging.getLogger(__name__)

# argostranslate's default: settings.remote_repo + "/index.json"
DEFAULT_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"
INDEX_ENV = "CAPTIONER_ARGOS_INDEX"  # overrides the default (a city's own mirror)
TIMEOUT = 30.0
CHUNK = 1 << 16
REQUIRED_FILES = ("metadata.json", "model/model.bin", "model/config.json", "sentencepiece.model")

Progress = Callable[[str, int, int], None]  # (file name, bytes done, bytes expected or 0)


def default_index_url() -> str:
    return os.environ.get(INDEX_ENV) or DEFAULT_INDEX_URL


def offline_hint(source: str, targets: Iterable[str]) -> str:
    """What to do on a PC without internet: download elsewhere, carry the files, install them."""
    langs = " ".join([source, *targets])
    return (
        f"on a PC with internet run `captioner translate download {langs} --to DIR` (DIR e.g. a USB "
        "stick), carry the folder to this PC, then run `captioner translate install DIR`"
    )


@dataclass(frozen=True)
class IndexEntry:
    """One package the index offers."""

    from_code: str
    to_code: str
    package_version: str = ""
    links: tuple[str, ...] = ()
    sha256: str = ""
    from_name: str = ""
    to_name: str = ""

    @property
    def pair(self) -> str:
        return f"{self.from_code}_{self.to_code}"

    @property
    def file_name(self) -> str:
        """``translate-ja_en-1_1.argosmodel``, the name the index's own links use."""
        version = self.package_version.replace(".", "_")
        return f"translate-{self.pair}" + (f"-{version}" if version else "") + ".argosmodel"

    @property
    def name(self) -> str:
        return f"translate-{self.pair}" + (f" {self.package_version}" if self.package_version else "")


@dataclass
class Plan:
    """What to download for the requested languages, and how each is reached."""

    entries: list[IndexEntry] = field(default_factory=list)
    routes: dict[str, str] = field(default_factory=dict)  # language → "direct" / "pivot through en"


class DownloadError(PackageError):
    """A download failed or gave something that is not the package the index promised."""


def _open(url: str, timeout: float):
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"{url}: only http:// and https:// links can be downloaded")
    request = urllib.request.Request(url, headers={"User-Agent": "counter-captions"})
    return urllib.request.urlopen(request, timeout=timeout)


def _network_reason(error: BaseException) -> str | None:
    """A short reason when ``error`` means "no network / server unreachable", else None."""
    reason = error.reason if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError) else error
    if isinstance(reason, (ConnectionError, socket.gaierror, socket.timeout, TimeoutError)):
        return f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
    if isinstance(reason, OSError) and not isinstance(error, urllib.error.HTTPError):
        return f"{type(reason).__name__}: {reason}"
    return None


def read_index(url: str, timeout: float = TIMEOUT, *, hint: str = "") -> list[IndexEntry]:
    """The translate packages the index at ``url`` lists (``file://`` and local paths work too)."""
    try:
        if "://" not in url:
            data = Path(url).read_bytes()
        elif url.startswith("file://"):
            data = Path(urllib.request.url2pathname(url[len("file://") :])).read_bytes()
        else:
            with _open(url, timeout) as response:
                data = response.read()
    except urllib.error.HTTPError as e:
        raise DownloadError(f"the package index {url} answered HTTP {e.code} {e.reason}" + (f"; {hint}" if hint else "")) from e
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        reason = _network_reason(e) or f"{type(e).__name__}: {e}"
        raise DownloadError(
            f"cannot reach the package index {url} ({reason}). This PC seems to be offline" + (f": {hint}" if hint else "")
        ) from e
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        start = data[:60].decode("utf-8", "replace").strip()
        raise DownloadError(f"{url} is not a package index (not JSON: {start!r}...)") from e
    if not isinstance(raw, list):
        raise DownloadError(f"{url} is not a package index (expected a JSON list of packages)")
    entries = []
    for item in raw:
        if not isinstance(item, dict) or item.get("type", "translate") != "translate":
            continue
        if not isinstance(item.get("from_code"), str) or not isinstance(item.get("to_code"), str):
            continue
        links = tuple(link for link in item.get("links") or () if isinstance(link, str))
        entries.append(
            IndexEntry(
                item["from_code"], item["to_code"], str(item.get("package_version", "")), links,
                str(item.get("sha256") or "").lower(), str(item.get("from_name", "")), str(item.get("to_name", "")),
            )
        )
    return entries


def plan_downloads(entries: list[IndexEntry], source: str, targets: Iterable[str], pivot: str = "en") -> Plan:
    """The packages for ``source`` → each target: the direct one, else the two through ``pivot``."""
    best: dict[tuple[str, str], IndexEntry] = {}
    from translate.packages import _version_key

    for entry in entries:
        key = (entry.from_code, entry.to_code)
        if key not in best or _version_key(entry.package_version) > _version_key(best[key].package_version):
            best[key] = entry
    plan = Plan()
    for target in targets:
        if (source, target) in best:
            wanted, plan.routes[target] = [best[source, target]], "direct"
        elif (source, pivot) in best and (pivot, target) in best:
            wanted, plan.routes[target] = [best[source, pivot], best[pivot, target]], f"pivot through {pivot} ({source}→{pivot}→{target})"
        else:
            from_source = sorted(b for a, b in best if a == source)
            raise DownloadError(
                f"the package index has no {source}→{target} package and no pivot through {pivot}"
                + (f" (from {source}: {', '.join(from_source)})" if from_source else "")
            )
        for entry in wanted:
            if entry not in plan.entries:
                plan.entries.append(entry)
    return plan


def fetch(entry: IndexEntry, folder: Path, timeout: float = TIMEOUT, progress: Progress | None = None, *, hint: str = "") -> Path:
    """Download ``entry`` into ``folder`` and verify it; return the file. Nothing is left on failure."""
    links = [link for link in entry.links if link.startswith(("http://", "https://"))]
    if not links:
        raise DownloadError(f"the package index gives no http(s) download link for {entry.name}")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / entry.file_name
    errors = []
    for url in links:  # argostranslate uses links[0]; the others are mirrors
        try:
            with replacing(target) as partial:
                _download(url, partial, timeout, progress, entry.file_name)
                verify_package_file(partial, entry, f"{entry.name} from {url}")
            return target
        except DownloadError as e:
            errors.append(str(e))
    if len(errors) == 1:
        raise DownloadError(errors[0] + (f"; {hint}" if hint and "offline" in errors[0] else ""))
    raise DownloadError(f"{entry.name}: every link failed: " + " | ".join(errors))


def _download(url: str, path: Path, timeout: float, progress: Progress | None, name: str) -> None:
    done = 0
    try:
        with _open(url, timeout) as response, open(path, "wb") as out:
            expected = int(response.headers.get("Content-Length") or 0)
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(name, done, expected)
    except urllib.error.HTTPError as e:
        raise DownloadError(f"{url}: the server answered HTTP {e.code} {e.reason}") from e
    except http.client.IncompleteRead as e:
        raise DownloadError(f"{url}: the download broke off after {len(e.partial) + done} bytes (truncated); try again") from e
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        reason = _network_reason(e) or f"{type(e).__name__}: {e}"
        raise DownloadError(f"cannot download {url} ({reason}); this PC seems to be offline or the server is down") from e
    if expected and done != expected:
        raise DownloadError(f"{url}: the download broke off after {done} of {expected} bytes (truncated); try again")


def verify_package_file(path: Path, entry: IndexEntry | None = None, where: str = "") -> dict:
    """Check an ``.argosmodel`` file without installing it; return its metadata.

    Checks the SHA-256 the index gives (if any), that it is a zip with one package folder
    holding :data:`REQUIRED_FILES`, readable, and for the pair ``entry`` promises.
    """
    where = where or str(path)
    if entry is not None and entry.sha256:
        digest = sha256_file(path)
        if digest != entry.sha256:
            raise DownloadError(
                f"{where}: checksum mismatch (SHA-256 {digest[:16]}..., the index says {entry.sha256[:16]}...): "
                "the file is damaged or not the published one; nothing was installed"
            )
    if not zipfile.is_zipfile(path):
        head = path.read_bytes()[:200].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")) or b"<html" in head:
            raise DownloadError(
                f"{where}: the server sent a web page, not a package (a login page, proxy or error page?); "
                "nothing was installed"
            )
        raise DownloadError(f"{where}: not a complete package (an .argosmodel file is a zip archive; truncated download?)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            for name in names:
                if unsafe_member(name):
                    raise DownloadError(f"{where}: unsafe path in the archive ({name})")
            tops = sorted({PurePosixPath(n).parts[0] for n in names if f"{PurePosixPath(n).parts[0]}/metadata.json" in names})
            if len(tops) != 1:
                raise DownloadError(f"{where}: not an Argos Translate package (expected one folder with metadata.json inside)")
            top = tops[0]
            missing = [f for f in REQUIRED_FILES if f"{top}/{f}" not in names]
            if missing:
                raise DownloadError(f"{where}: incomplete package (no {', '.join(missing)})")
            bad = archive.testzip()  # reads every member: catches a damaged one
            if bad is not None:
                raise DownloadError(f"{where}: damaged package archive ({bad} fails its CRC check)")
            metadata = json.loads(archive.read(f"{top}/metadata.json").decode("utf-8"))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, UnicodeDecodeError, ValueError) as e:
        raise DownloadError(f"{where}: damaged package archive ({type(e).__name__}: {e})") from e
    if not isinstance(metadata, dict):
        raise DownloadError(f"{where}: metadata.json must be a JSON object")
    if entry is not None and (metadata.get("from_code"), metadata.get("to_code")) != (entry.from_code, entry.to_code):
        raise DownloadError(
            f"{where}: the package translates {metadata.get('from_code')}→{metadata.get('to_code')}, "
            f"but the index listed it as {entry.from_code}→{entry.to_code}"
        )
    return metadata


def download_packages(
    source: str,
    targets: list[str],
    *,
    index_url: str | None = None,
    pivot: str = "en",
    to: Path | None = None,
    store: PackageStore | None = None,
    timeout: float = TIMEOUT,
    progress: Progress | None = None,
) -> tuple[Plan, list[Path], list[Package]]:
    """Download what ``source`` → ``targets`` needs; keep the files in ``to`` or install them into ``store``.

    Returns the plan, the files (in ``to``; empty when installed) and the installed packages.
    """
    hint = offline_hint(source, targets)
    url = index_url or default_index_url()
    plan = plan_downloads(read_index(url, timeout, hint=hint), source, targets, pivot)
    if to is not None:
        files = [fetch(entry, Path(to), timeout, progress, hint=hint) for entry in plan.entries]
        return plan, files, []
    if store is None:
        raise ValueError("a package store or a folder (to) is needed")
    with tempfile.TemporaryDirectory(prefix="captioner-download-") as tmp:
        files = [fetch(entry, Path(tmp), timeout, progress, hint=hint) for entry in plan.entries]
        installed = store.install_many(files)  # all loaded once first: a bad one installs none
    return plan, [], installed


def package_files(paths: Iterable[str | Path]) -> list[Path]:
    """``.argosmodel`` files named directly or found in named folders (``translate install DIR``)."""
    files: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            found = sorted(item.glob("*.argosmodel"))
            if not found:
                raise PackageError(f"{item}: no .argosmodel files in this folder")
            files.extend(found)
        elif item.is_file():
            files.append(item)
        else:
            raise PackageError(f"{item}: no such file or folder")
    return files


