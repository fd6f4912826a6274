"""The admin page's HTTP side: login, throttling, sessions, CSRF, dictionary edits, CSV, limits."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from web.admin import (
    DictionaryAdmin,
    Throttle,
    hash_password,
    set_password_in_config,
    verify_password,
)
from web.gate import COOKIE, AdminContext
from web.hub import CaptionHub
from web.options import WebOptions
from web.server import create_app

PASSWORD = "counter-admin-1"
HASH = hash_password(PASSWORD)
LOCAL = ("127.0.0.1", 50000)  # the admin page answers this PC only (web.admin_lan: false)


@pytest.fixture
def folder(tmp_path):
    words = tmp_path / "words"
    words.mkdir()
    (words / "words.yaml").write_text("- {surface: 防府市, reading: ほうふし, en: Hofu City}\n", encoding="utf-8")
    return words


@pytest.fixture
def changes():
    return []


@pytest.fixture
def client(folder, changes):
    admin = AdminContext(HASH, b"k" * 32, DictionaryAdmin(folder, on_change=lambda: changes.append(1)), max_upload=4096)
    app = create_app(WebOptions(), CaptionHub(), admin=admin, status=lambda: {"model": "base", "device": "cpu", "microphone": "USB"})
    with TestClient(app, client=LOCAL) as c:
        yield c


def login(client) -> str:
    response = client.post("/admin/api/login", json={"password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["csrf"]


def test_password_hash_roundtrip():
    assert HASH.startswith("scrypt$") and PASSWORD not in HASH
    assert verify_password(PASSWORD, HASH)
    assert not verify_password("wrong-password", HASH)
    assert not verify_password(PASSWORD, "scrypt$garbage")


def test_unauthenticated_calls_are_refused(client):
    assert client.get("/admin").status_code == 200  # the login page itself
    assert client.get("/admin/api/words").status_code == 401
    assert client.post("/admin/api/words", json={"surface": "富海", "reading": "とのみ"}).status_code == 401
    assert client.put("/admin/api/words/防府市", json={"surface": "防府市", "reading": "ほうふし"}).status_code == 401
    assert client.delete("/admin/api/words/防府市").status_code == 401
    assert client.post("/admin/api/import", content=b"a,b\n").status_code == 401
    assert client.get("/admin/api/export").status_code == 401
    assert client.get("/admin/api/status").status_code == 401
    client.cookies.set(COOKIE, "forged.signature", path="/admin")
    assert client.get("/admin/api/words").status_code == 401


def test_admin_locked_without_a_password(folder):
    admin = AdminContext("", b"k" * 32, DictionaryAdmin(folder))
    with TestClient(create_app(WebOptions(), CaptionHub(), admin=admin), client=LOCAL) as c:
        assert c.post("/admin/api/login", json={"password": "anything-at-all"}).status_code == 403
        assert c.get("/admin/api/words").status_code == 403
        assert c.get("/admin/api/session").json() == {"configured": False, "logged_in": False}


def test_login_sets_a_strict_httponly_cookie_and_csrf_is_checked(client, folder, changes):
    response = client.post("/admin/api/login", json={"password": PASSWORD})
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    csrf = response.json()["csrf"]
    entry = {"surface": "富海", "reading": "とのみ", "translations": {"en": "Tonomi"}}
    assert client.post("/admin/api/words", json=entry).status_code == 403  # no token
    assert client.post("/admin/api/words", json=entry, headers={"X-CSRF-Token": "nope"}).status_code == 403
    assert "富海" not in (folder / "words.yaml").read_text(encoding="utf-8")
    response = client.post("/admin/api/words", json=entry, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and response.json()["status"] == "added"
    assert "富海" in (folder / "words.yaml").read_text(encoding="utf-8") and changes
    assert client.get("/admin/api/session").json()["csrf"] == csrf
    client.post("/admin/api/logout")
    assert client.get("/admin/api/words").status_code == 401


def test_login_is_throttled_after_failures(folder):
    clock = [1000.0]
    admin = AdminContext(HASH, b"k" * 32, DictionaryAdmin(folder), throttle=Throttle(free=3, clock=lambda: clock[0]))
    with TestClient(create_app(WebOptions(), CaptionHub(), admin=admin), client=LOCAL) as c:
        for _ in range(3):
            assert c.post("/admin/api/login", json={"password": "wrong-one!"}).status_code == 401
        assert c.post("/admin/api/login", json={"password": "wrong-one!"}).status_code == 401  # 4th: wait starts
        blocked = c.post("/admin/api/login", json={"password": PASSWORD})
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers  # even the right one waits
        clock[0] += 1.5
        assert c.post("/admin/api/login", json={"password": PASSWORD}).status_code == 200


def test_throttle_backs_off_exponentially():
    clock = [0.0]
    throttle = Throttle(free=2, max_wait=10, clock=lambda: clock[0])
    waits = []
    for _ in range(8):
        throttle.failed("a")
        waits.append(throttle.wait("a"))
    assert waits == [0, 0, 1, 2, 4, 8, 10, 10]
    assert throttle.wait("b") == 0
    throttle.succeeded("a")
    assert throttle.wait("a") == 0


def test_search_edit_delete(client, folder):
    csrf = login(client)
    h = {"X-CSRF-Token": csrf}
    client.post("/admin/api/words", json={"surface": "富海", "reading": "トノミ", "aliases": "殿海;との海"}, headers=h)
    found = client.get("/admin/api/words", params={"q": "とのみ"}).json()
    assert found["matched"] == 1 and found["entries"][0]["reading"] == "とのみ"
    assert found["entries"][0]["aliases"] == ["殿海", "との海"] and found["entries"][0]["file"] == "words.yaml"
    assert client.get("/admin/api/words", params={"q": "Hofu"}).json()["entries"][0]["surface"] == "防府市"
    response = client.put("/admin/api/words/富海", json={"surface": "富海", "reading": "とのみ", "note": "地名"}, headers=h)
    assert response.status_code == 200
    entry = client.get("/admin/api/words", params={"q": "富海"}).json()["entries"][0]
    assert entry["note"] == "地名" and entry["aliases"] == []  # an edit replaces the whole entry
    assert client.put("/admin/api/words/富海", json={"surface": "防府市", "reading": "ほうふし"}, headers=h).status_code == 400
    assert client.delete("/admin/api/words/富海", headers=h).status_code == 200
    assert client.delete("/admin/api/words/富海", headers=h).status_code == 404
    assert "富海" not in (folder / "words.yaml").read_text(encoding="utf-8")


def test_bad_entries_are_explained(client):
    h = {"X-CSRF-Token": login(client)}
    response = client.post("/admin/api/words", json={"surface": "防府", "reading": "bofu"}, headers=h)
    assert response.status_code == 400 and "ひらがなかカタカナ" in response.json()["error"]  # in Japanese (web/messages_ja.py)
    assert client.post("/admin/api/words", json={"surface": "x", "reading": "えっくす", "path": "../x"}, headers=h).status_code == 400
    assert client.post("/admin/api/words", content=b"{not json", headers=h).status_code == 400


def test_csv_import_export_and_malformed_upload_writes_nothing(client, folder):
    h = {"X-CSRF-Token": login(client)}
    before = (folder / "words.yaml").read_bytes()
    bad = "表記,読み,英語\n富海,とのみ,Tonomi\n大道,daidou,Daido\n".encode("utf-8")
    response = client.post("/admin/api/import", content=bad, headers={**h, "X-Filename": "../../etc/words.csv"})
    assert response.status_code == 400
    body = response.json()
    assert any(p.startswith("words.csv の 3 行目:") for p in body["problems"]), body  # the file's own name and the line
    assert (folder / "words.yaml").read_bytes() == before
    good = "表記,読み,英語\n富海,とのみ,Tonomi\n大道,だいどう,Daido\n".encode("cp932")
    response = client.post("/admin/api/import", content=good, headers={**h, "X-Filename": "towns.csv"})
    assert response.json() == {"added": 2, "updated": 0, "unchanged": 0}
    exported = client.get("/admin/api/export")
    assert exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("表記,読み,英語") and "大道,だいどう,Daido" in text
    assert not list(folder.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_oversized_upload_is_rejected(client, folder):
    h = {"X-CSRF-Token": login(client)}
    big = b"\xe8\xa1\xa8\xe8\xa8\x98,\xe8\xaa\xad\xe3\x81\xbf\n" + b"a,b\n" * 2000
    response = client.post("/admin/api/import", content=big, headers=h)
    assert response.status_code == 413
    assert "大きすぎ" in response.json()["error"]


def test_status_shows_model_device_microphone(client):
    login(client)
    status = client.get("/admin/api/status").json()
    assert status["model"] == "base" and status["device"] == "cpu" and status["microphone"] == "USB"
    assert status["latency"] == [] and status["viewers"] == 0


def test_set_password_keeps_the_rest_of_the_config(tmp_path):
    from captioner.app.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text("asr:\n  model: small\nweb:\n  port: 9000\n", encoding="utf-8")
    set_password_in_config(path, HASH)
    config = load_config(path)
    assert config.asr.model == "small" and config.web.port == 9000 and config.web.admin_password_hash == HASH
    set_password_in_config(path, hash_password("another-password"))
    config = load_config(path)
    assert verify_password("another-password", config.web.admin_password_hash)
    assert path.read_text(encoding="utf-8").count("admin_password_hash") == 1


def test_set_password_command(tmp_path, monkeypatch, capsys):
    import io

    from captioner.app.cli import main
    from captioner.app.config import load_config

    path = tmp_path / "new" / "config.yaml"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-password\n"))
    assert main(["admin", "set-password", "--config", str(path), "--stdin"]) == 0
    assert verify_password("s3cret-password", load_config(path).web.admin_password_hash)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["admin", "set-password", "--config", str(path), "--stdin"]) == 1
    assert "at least 8" in capsys.readouterr().err


def test_a_lone_surrogate_from_the_admin_page_never_breaks_words_yaml(client, folder):
    """Issue 27: "\\ud800" (valid JSON, ASCII on the wire) once made words.yaml refuse to load after
    a restart, losing every word; the gate makes it U+FFFD before anything is written."""
    from dictionary.store import load_folder

    h = {"X-CSRF-Token": login(client), "Content-Type": "application/json"}
    body = json.dumps({"surface": "防\ud800府", "reading": "ほうふ", "note": "\u202e逆向き"})  # escapes, as a browser sends them
    assert client.post("/admin/api/words", content=body.encode("ascii"), headers=h).status_code == 200
    result = load_folder(folder)
    assert not result.problems, result.problems
    assert {e.surface for e in result.entries} == {"防府市", "防\ufffd府"}
    assert {e.note for e in result.entries} == {"", "逆向き"}  # the bidi override is gone


def test_a_head_request_with_a_body_changes_nothing(client, folder):
    """Issue 27 (Low): HEAD is not checked for the CSRF token, and a HEAD with a JSON body added the word."""
    login(client)
    response = client.request("HEAD", "/admin/api/words", content=json.dumps({"surface": "富海", "reading": "とのみ"}).encode(),
                              headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 200
    assert "富海" not in (folder / "words.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("password", ["password", "PASSWORD", "12345678", "x" * 1025, "counter-\udcff-admin"])
def test_a_password_that_cannot_protect_or_cannot_log_in_is_not_set(password):
    """Issue 27 (Low): ``password`` was accepted, and one over 1,024 characters was set but could
    never log in (the login page takes at most 1,024)."""
    from captioner.core.errors import CaptionerError

    with pytest.raises(CaptionerError):
        hash_password(password)
    assert verify_password("x" * 1024, hash_password("x" * 1024))  # the longest that logs in can be set


def test_wrong_logins_from_many_addresses_are_slowed_down_together(folder):
    """Issue 27 (Medium): the login throttle counted per address only, so guesses from ten
    addresses kept scrypt (about 0.6 s each) busy and starved captioning."""
    admin = AdminContext(HASH, b"k" * 32, DictionaryAdmin(folder), everyone=Throttle(free=4, max_wait=60))
    app = create_app(WebOptions(host="0.0.0.0", admin_lan=True), CaptionHub(), admin=admin)
    for n in range(5):  # one wrong guess from each address: no address alone is throttled
        with TestClient(app, client=(f"192.168.1.{20 + n}", 50000)) as lan:
            assert lan.post("/admin/api/login", json={"password": "wrong-one!"}).status_code == 401
    with TestClient(app, client=("192.168.1.99", 50000)) as fresh:
        blocked = fresh.post("/admin/api/login", json={"password": "wrong-one!"})
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers
