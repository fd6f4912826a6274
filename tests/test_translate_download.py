"""`captioner translate download` against a real HTTP server on loopback serving an index and
real (tiny) packages: success, pivots, --to + install DIR, and every way a download goes wrong."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.translate_support import make_packages

HTML = b"<!DOCTYPE html>\n<html><head><title>Proxy login</title></head><body>Please log in.</body></html>\n"


class PackageServer:
    """Serves ``/index.json`` and package files; ``mode`` per path changes what a file download gets."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = {f"/files/{path.name}": path.read_bytes() for path in files.values()}
        self.index: list[dict] = []
        self.modes: dict[str, str] = {}  # path → "truncate" | "html" | "404"
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path == "/index.json":
                    return self._send(200, json.dumps(server.index).encode(), "application/json")
                mode = server.modes.get(self.path)
                data = server.files.get(self.path)
                if data is None or mode == "404":
                    return self._send(404, b"not found", "text/plain")
                if mode == "html":  # a proxy's login page, with 200 OK
                    return self._send(200, HTML, "text/html")
                if mode == "truncate":  # promises the whole file, sends half, hangs up
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                return self._send(200, data, "application/octet-stream")

            def _send(self, code: int, body: bytes, kind: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, pair: str, path: Path, version: str = "1.0", sha256: str | None = None) -> str:
        """Add an index entry shaped like the public index's (see translate/download.py)."""
        a, b = pair.split("_")
        link = f"/files/{path.name}"
        entry = {
            "package_version": version, "argos_version": "1.0", "from_code": a, "from_name": a, "to_code": b,
            "to_name": b, "links": [f"{self.url}{link}", "ipfs://QmNotFetched"], "code": f"translate-{pair}",
        }  # fmt: skip
        if sha256 is not None:
            entry["sha256"] = sha256
        self.index.append(entry)
        return link

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def package_files(tmp_path_factory) -> dict[str, Path]:
    return make_packages(tmp_path_factory.mktemp("packages"))


@pytest.fixture
def server(package_files):
    server = PackageServer(package_files)
    yield server
    server.close()


@pytest.fixture
def home(tmp_path) -> dict[str, str]:
    config = tmp_path / "config.yaml"
    config.write_text("translate:\n  languages: [en, vi, zh]\n", encoding="utf-8")
    env = dict(os.environ)
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), ARGOS_PACKAGES_DIR=str(tmp_path / "argos"), CAPTIONER_CONFIG=str(config))
    env.pop("CAPTIONER_ARGOS_INDEX", None)
    return env


def captioner(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "captioner", "translate", *args], capture_output=True, text=True, timeout=180, env=env
    )


def installed_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "captioner" / "translate"


def assert_nothing_installed(tmp_path: Path) -> None:
    folder = installed_dir(tmp_path)
    assert not folder.exists() or [p.name for p in folder.iterdir()] == [], list(folder.iterdir())


def one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("captioner: error:")]
    assert result.returncode == 7, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_download_installs_direct_and_pivot_packages(server, package_files, home, tmp_path):
    for pair in ("ja_en", "en_vi", "ja_zh"):
        server.publish(pair, package_files[pair], sha256=hashlib.sha256(package_files[pair].read_bytes()).hexdigest())
    result = captioner(home, "download", "ja", "en", "vi", "zh", "--index", f"{server.url}/index.json")
    assert result.returncode == 0, result.stderr
    assert "ja→en: direct" in result.stdout
    assert "ja→vi: pivot through en (ja→en→vi)" in result.stdout
    assert "ja→zh: direct" in result.stdout
    assert sorted(p.name for p in installed_dir(tmp_path).iterdir()) == ["translate-en_vi", "translate-ja_en", "translate-ja_zh"]
    assert server.requests.count("/files/ja_en.argosmodel") == 1  # used twice, downloaded once
    listing = captioner(home, "list")
    assert "vi: ja→en→vi, pivot through en" in listing.stdout and "MISSING" not in listing.stdout


def test_download_to_a_folder_then_install_the_folder(server, package_files, home, tmp_path):
    server.publish("ja_en", package_files["ja_en"], version="1.1")
    stick = tmp_path / "usb"
    result = captioner(home, "download", "ja", "en", "--to", str(stick), "--index", f"{server.url}/index.json")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in stick.iterdir()] == ["translate-ja_en-1_1.argosmodel"]
    assert "captioner translate install usb" in result.stdout
    assert_nothing_installed(tmp_path)  # --to only downloads

    offline = dict(home, CAPTIONER_ARGOS_INDEX="http://127.0.0.1:9/index.json")  # the counter PC: no network
    installed = captioner(offline, "install", str(stick))
    assert installed.returncode == 0, installed.stderr
    assert "installed translate-ja_en 1.0 (ja→en)" in installed.stdout  # the version metadata.json gives
    assert (installed_dir(tmp_path) / "translate-ja_en" / "sentencepiece.model").is_file()


def test_checksum_mismatch_installs_nothing(server, package_files, home, tmp_path):
    server.publish("ja_en", package_files["ja_en"], sha256="0" * 64)
    line = one_error_line(captioner(home, "download", "ja", "en", "--index", f"{server.url}/index.json"))
    assert "translate-ja_en 1.0 from http://127.0.0.1" in line and "checksum mismatch" in line
    assert_nothing_installed(tmp_path)


def test_truncated_download_installs_nothing(server, package_files, home, tmp_path):
    server.modes[server.publish("ja_en", package_files["ja_en"])] = "truncate"
    line = one_error_line(captioner(home, "download", "ja", "en", "--index", f"{server.url}/index.json"))
    assert "truncated" in line and "broke off" in line
    assert_nothing_installed(tmp_path)
    stick = tmp_path / "usb"
    captioner(home, "download", "ja", "en", "--to", str(stick), "--index", f"{server.url}/index.json")
    assert not stick.exists() or list(stick.iterdir()) == []  # no .partial left behind


def test_html_page_instead_of_a_package(server, package_files, home, tmp_path):
    server.modes[server.publish("ja_en", package_files["ja_en"])] = "html"
    line = one_error_line(captioner(home, "download", "ja", "en", "--index", f"{server.url}/index.json"))
    assert "sent a web page, not a package" in line
    assert_nothing_installed(tmp_path)


def test_one_bad_package_of_a_pivot_installs_neither(server, package_files, home, tmp_path):
    server.publish("ja_en", package_files["ja_en"])
    server.modes[server.publish("en_vi", package_files["en_vi"])] = "404"
    line = one_error_line(captioner(home, "download", "ja", "vi", "--index", f"{server.url}/index.json"))
    assert "HTTP 404" in line
    assert_nothing_installed(tmp_path)


def test_offline_connection_refused_says_what_to_do(home, tmp_path):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = one_error_line(captioner(home, "download", "ja", "en", "vi", "--index", f"http://127.0.0.1:{port}/index.json"))
    assert "cannot reach the package index" in line and "ConnectionRefusedError" in line
    assert "captioner translate download ja en vi --to DIR" in line and "captioner translate install DIR" in line
    assert_nothing_installed(tmp_path)


def test_offline_server_that_never_answers_times_out(home, tmp_path):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/index.json"
        line = one_error_line(captioner(home, "download", "ja", "en", "--index", url, "--timeout", "1"))
    assert "cannot reach the package index" in line and "timed out" in line
    assert "--to DIR" in line
    assert_nothing_installed(tmp_path)


def test_index_without_the_language(server, package_files, home, tmp_path):
    server.publish("ja_en", package_files["ja_en"])
    line = one_error_line(captioner(home, "download", "ja", "ko", "--index", f"{server.url}/index.json"))
    assert "no ja→ko package and no pivot through en (from ja: en)" in line


def test_installing_a_folder_with_one_bad_file_installs_none(package_files, home, tmp_path):
    stick = tmp_path / "usb"
    stick.mkdir()
    for pair in ("ja_en", "en_vi"):
        (stick / package_files[pair].name).write_bytes(package_files[pair].read_bytes())
    good = package_files["ja_zh"].read_bytes()
    (stick / "ja_zh.argosmodel").write_bytes(good[: len(good) // 2])  # a copy that stopped half-way
    result = captioner(home, "install", str(stick))
    assert "ja_zh.argosmodel: not an Argos Translate package" in one_error_line(result)
    assert_nothing_installed(tmp_path)
