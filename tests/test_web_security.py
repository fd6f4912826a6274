"""The web side against an attacker, over real sockets (uvicorn on 127.0.0.1, httpx, websockets).

One test (or a few) per finding of issue 17: PIN guessing, foreign WebSocket origins, throttle
races and forged X-Forwarded-For, CSV formula injection, cross-site logins, bad input, a
forged Host header, and the hardening items (headers, message size, CSP, scrypt, HTTPS,
admin page on loopback only). The cross-site cases in a real Chromium are in
``test_web_security_browser.py``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys

import httpx
import pytest
import websockets

from captioner.core.errors import CaptionerError
from tests.web_support import event
from web.admin import DictionaryAdmin, hash_password, verify_password
from web.gate import PIN_CLOSE, AdminContext
from web.hub import CaptionHub
from web.options import WebOptions
from web.server import WebServer

PASSWORD = "counter-admin-1"
HASH = hash_password(PASSWORD)
PIN = "2468"


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    """The server's data folder (survey, dropped tablets) in the test's own folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def folder(tmp_path):
    words = tmp_path / "words"
    words.mkdir()
    (words / "words.yaml").write_text("- {surface: 防府市, reading: ほうふし, en: Hofu City}\n", encoding="utf-8")
    return words


def start(folder=None, **options) -> WebServer:
    admin = AdminContext(HASH, b"k" * 32, DictionaryAdmin(folder) if folder else None)
    server = WebServer(WebOptions(port=0, **options), CaptionHub(), admin=admin)
    server.start()
    return server


@pytest.fixture
def server(folder):
    s = start(folder, viewer_pin=PIN)
    yield s
    s.stop()


def base(server) -> str:
    return f"http://127.0.0.1:{server.port}"


def login(client: httpx.Client) -> dict[str, str]:
    response = client.post("/admin/api/login", json={"password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf"]}


async def ws_outcome(url: str, **kw):
    """'hello' when the viewer is let in, else the close code (or the HTTP status of a refusal)."""
    try:
        async with websockets.connect(url, **kw) as socket_:
            while True:
                message = json.loads(await asyncio.wait_for(socket_.recv(), 5))
                if message["t"] == "hello":
                    return "hello"
    except websockets.ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else "closed"
    except websockets.InvalidStatus as e:
        return e.response.status_code


# -------------------------------------------------------------------- 1. viewer PIN guessing


def test_pin_guesses_on_the_qr_endpoint_are_throttled_with_the_websocket(server):
    with httpx.Client(base_url=base(server)) as client:
        statuses = [client.get("/qr.svg", params={"pin": f"{guess:04d}"}).status_code for guess in range(40)]
        assert statuses[:6] == [403] * 6 and statuses[6] == 429, statuses  # slowed down, not 150 guesses in 0.1 s
        assert statuses.count(403) <= 8, statuses  # a wrong guess only each time the doubling wait ends
        # the throttle is shared: the right PIN now waits too, on the QR code and on the WebSocket
        assert client.get("/qr.svg", params={"pin": PIN}).status_code == 429
    assert asyncio.run(ws_outcome(f"ws://127.0.0.1:{server.port}/ws?pin={PIN}")) != "hello"


def test_the_qr_code_carries_an_unguessable_key_instead_of_the_pin(server):
    url = server.url
    assert PIN not in url and "pin=" not in url and "key=" in url
    key = url.split("key=")[1]
    assert len(key) >= 20
    assert asyncio.run(ws_outcome(f"ws://127.0.0.1:{server.port}/ws?key={key}")) == "hello"
    assert asyncio.run(ws_outcome(f"ws://127.0.0.1:{server.port}/ws?key={key[:-1]}{'B' if key.endswith('A') else 'A'}")) == PIN_CLOSE
    with httpx.Client(base_url=base(server)) as client:
        from web import qr

        shown = client.get("/qr.svg", params={"key": key})
        # the tablet's QR button: the conversation's key (issue 27), as on the clerk's screen
        current = client.get("/admin/clerk/api/state").json()["viewer"]
        assert shown.status_code == 200 and shown.content == qr.svg(current) and current != url


def test_a_typed_pin_gives_the_tablet_its_own_token(server):
    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws?pin={PIN}") as socket_:
            first = json.loads(await asyncio.wait_for(socket_.recv(), 5))
        return first

    first = asyncio.run(run())
    tablet = first["tablet"]
    assert first["t"] == "hello" and tablet["kind"] == "counter" and len(tablet["key"]) >= 20
    assert tablet["key"] != server.url.split("key=")[1] and PIN not in json.dumps(first)
    assert asyncio.run(ws_outcome(f"ws://127.0.0.1:{server.port}/ws?key={tablet['key']}")) == "hello"


async def hello_of(url: str):
    """An open viewer WebSocket and its hello, after the backlog (until 'live')."""
    socket_ = await websockets.connect(url)
    hello = json.loads(await asyncio.wait_for(socket_.recv(), 5))
    while json.loads(await asyncio.wait_for(socket_.recv(), 5))["t"] != "live":
        pass
    return socket_, hello


def qr_key(clerk: httpx.Client) -> str:
    """The key of the QR code the counter shows now (from the clerk's screen)."""
    return clerk.get("/admin/clerk/api/state").json()["viewer"].split("key=")[1]


async def phone_and_counter(server, key: str):
    """A resident's phone let in by the QR code's ``key`` and the counter's tablet (the PIN):
    (phone, its tablet, counter, its tablet)."""
    ws = f"ws://127.0.0.1:{server.port}/ws"
    phone, phone_hello = await hello_of(f"{ws}?key={key}")
    counter, counter_hello = await hello_of(f"{ws}?pin={PIN}")
    return phone, phone_hello["tablet"], counter, counter_hello["tablet"]


async def next_message(socket_):
    """The next message (a dict), or the close code once the server closed the WebSocket."""
    try:
        return json.loads(await asyncio.wait_for(socket_.recv(), 5))
    except websockets.ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else "closed"


def test_a_phone_let_in_by_the_qr_code_gets_nothing_of_the_next_conversation(server):
    """Issue 27 (Medium): the viewer key never expired, so a phone that scanned the QR code once
    read every later conversation. Now the QR code's key is the conversation's: at 終了 the phone
    gets the end (and its survey), is closed, and neither its token nor the old key lets it back;
    the counter's tablet (set up with the PIN) goes on."""
    with httpx.Client(base_url=base(server)) as clerk:
        first_key = qr_key(clerk)
        ws = f"ws://127.0.0.1:{server.port}/ws"

        async def scenario():
            phone, phone_tablet, counter, counter_tablet = await phone_and_counter(server, first_key)
            ended = await asyncio.get_running_loop().run_in_executor(None, lambda: clerk.post("/admin/clerk/api/end", json={}))
            assert ended.status_code == 200
            phone_got = [await next_message(phone), await next_message(phone)]
            assert (await next_message(counter))["t"] == "conv"
            server.hub.sink(event("final", 5, "次の方の字幕です。"))
            counter_got = await next_message(counter)
            await counter.close()
            await phone.close()
            return phone_tablet, counter_tablet, phone_got, counter_got

        phone, counter, phone_got, counter_got = asyncio.run(scenario())
        assert phone["kind"] == "guest" and counter["kind"] == "counter"
        assert phone_got[0]["t"] == "conv" and phone_got[0]["state"] == "ended" and phone_got[1] == 4410
        assert counter_got["t"] == "cap" and counter_got["u"]["text"] == "次の方の字幕です。"
        assert asyncio.run(ws_outcome(f"{ws}?key={phone['key']}")) == PIN_CLOSE  # the phone's token
        answer = {"conversation": phone_got[0]["conversation"], "score": 5}
        assert clerk.post("/api/survey", json=answer, headers={"X-Viewer-Key": phone["key"]}).status_code == 200  # its own survey
        assert clerk.post("/api/reply", json={"text": "x"}, headers={"X-Viewer-Key": phone["key"]}).status_code == 403
        assert asyncio.run(ws_outcome(f"{ws}?key={first_key}")) == PIN_CLOSE  # yesterday's QR code
        assert asyncio.run(ws_outcome(f"{ws}?key={counter['key']}")) == "hello"  # the counter's tablet
        second_key = qr_key(clerk)
        assert second_key != first_key and asyncio.run(ws_outcome(f"{ws}?key={second_key}")) == "hello"

        async def next_phone():  # the next resident's phone, let in by the new QR code
            phone_, phone_tablet, counter_, _ = await phone_and_counter(server, second_key)
            await phone_.close()
            await counter_.close()
            return phone_tablet["key"]

        stuffed = clerk.post("/api/survey", json=answer, headers={"X-Viewer-Key": asyncio.run(next_phone())})
        assert stuffed.status_code == 409  # it did not watch the conversation before it
        assert asyncio.run(ws_outcome(server.url.replace("http://", "ws://").replace("/?", "/ws?"))) == "hello"  # the setup URL


def test_the_clerk_sees_the_connected_tablets_and_drops_one(server):
    """Issue 27: the clerk screen shows which tablets are connected and can drop one: its
    WebSocket is closed and its token no longer let in; the other tablet goes on."""
    with httpx.Client(base_url=base(server)) as clerk:
        key = qr_key(clerk)
        ws = f"ws://127.0.0.1:{server.port}/ws"

        async def scenario():
            phone, phone_tablet, counter, counter_tablet = await phone_and_counter(server, key)
            loop = asyncio.get_running_loop()
            listed = (await loop.run_in_executor(None, lambda: clerk.get("/admin/clerk/api/tablets"))).json()
            dropped = await loop.run_in_executor(None, lambda: clerk.post("/admin/clerk/api/tablets/drop", json={"id": phone_tablet["id"]}))
            phone_got = await next_message(phone)
            server.hub.sink(event("final", 3, "続けます。"))
            counter_got = await next_message(counter)
            await counter.close()
            return phone_tablet, counter_tablet, listed, dropped.status_code, phone_got, counter_got

        phone, counter, listed, dropped, phone_got, counter_got = asyncio.run(scenario())
        assert sorted((t["id"], t["kind"], t["address"], t["connected"]) for t in listed["tablets"]) == sorted(
            [(phone["id"], "guest", "127.0.0.1", 1), (counter["id"], "counter", "127.0.0.1", 1)]
        )
        assert "key=" + key in listed["viewer"]
        assert dropped == 200 and phone_got == 4408 and counter_got["u"]["text"] == "続けます。"
        assert asyncio.run(ws_outcome(f"{ws}?key={phone['key']}")) == PIN_CLOSE  # its token is no longer let in
        assert [t["id"] for t in clerk.get("/admin/clerk/api/tablets").json()["tablets"]] == [counter["id"]]
        assert clerk.post("/admin/clerk/api/tablets/drop", json={"id": phone["id"]}).status_code == 404
        evil = {"Origin": "http://evil.example"}
        assert clerk.post("/admin/clerk/api/tablets/drop", json={"id": counter["id"]}, headers=evil).status_code == 403
    with httpx.Client(base_url=base(server), headers={"Host": f"counter.local:{server.port}"}) as lan:
        assert lan.get("/admin/clerk/api/tablets").status_code in (400, 403)  # not the clerk

# ------------------------------------------------------------- 2. cross-site WebSocket hijacking


def test_websocket_refuses_a_foreign_origin(folder):
    s = start(folder)
    try:
        url = f"ws://127.0.0.1:{s.port}/ws"
        assert asyncio.run(ws_outcome(url, origin="http://evil.example")) == 403
        assert asyncio.run(ws_outcome(url, origin=f"http://127.0.0.1:{s.port + 1 if s.port < 65535 else 1}")) == 403
        assert asyncio.run(ws_outcome(url, origin="null")) == 403
        assert asyncio.run(ws_outcome(url, origin=f"http://127.0.0.1:{s.port}")) == "hello"
        assert asyncio.run(ws_outcome(url, origin=f"http://localhost:{s.port}")) == "hello"
        assert asyncio.run(ws_outcome(url)) == "hello"  # not a browser: no Origin
    finally:
        s.stop()


# ----------------------------------------------------------------- 3. throttle races, XFF


def test_simultaneous_wrong_logins_hit_429_in_time(server):
    async def run():
        async with httpx.AsyncClient(base_url=base(server), timeout=60) as client:
            attempts = [client.post("/admin/api/login", json={"password": f"wrong-{i}-pass"}) for i in range(12)]
            return [r.status_code for r in await asyncio.gather(*attempts)]

    statuses = asyncio.run(run())
    assert statuses.count(401) <= 4 and statuses.count(429) >= 8, statuses


def test_x_forwarded_for_does_not_give_a_fresh_identity(server):
    with httpx.Client(base_url=base(server), timeout=60) as client:
        statuses = [
            client.post("/admin/api/login", json={"password": "wrong-password"},
                        headers={"X-Forwarded-For": f"10.0.{i}.1", "X-Real-IP": f"10.1.{i}.1"}).status_code
            for i in range(8)
        ]  # fmt: skip
        assert 429 in statuses, statuses
        pins = [client.get("/qr.svg", params={"pin": f"{i:04d}"}, headers={"X-Forwarded-For": f"10.2.{i}.1"}).status_code
                for i in range(12)]  # fmt: skip
        assert 429 in pins, pins


# --------------------------------------------------------------------- 4. CSV formula injection


FORMULAS = {
    "surface": "=HYPERLINK(\"http://evil.example\",\"x\")",
    "reading": "ほうふ",
    "note": "+1+cmd|' /C calc'!A0",
    "aliases": "@SUM(1+1);-2+3",
    "translations": {"en": "=1+1", "vi": "'=already quoted"},
    "priority": "-5",
}


def test_csv_export_neutralises_formulas_and_reimports_unchanged(server, folder, tmp_path):
    import csv
    import io

    from dictionary.csvio import read_csv

    with httpx.Client(base_url=base(server)) as client:
        h = login(client)
        assert client.post("/admin/api/words", json=FORMULAS, headers=h).status_code == 200
        exported = client.get("/admin/api/export")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    dangerous = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not dangerous, dangerous
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells and "'-5" in cells and "''=already quoted" in cells

    path = tmp_path / "exported.csv"
    path.write_bytes(exported.content)
    again = {e.surface: e for e in read_csv(path).entries}
    original = next(e for e in DictionaryAdmin(folder).search("ほうふ")["entries"] if e["surface"] == FORMULAS["surface"])
    entry = again[FORMULAS["surface"]]
    assert entry.note == original["note"] == FORMULAS["note"]
    assert list(entry.aliases) == original["aliases"] == ["@SUM(1+1)", "-2+3"]
    assert entry.translations == original["translations"] == FORMULAS["translations"]
    assert entry.priority == original["priority"] == -5

    with httpx.Client(base_url=base(server)) as client:  # and through the admin page: nothing changes
        h = login(client)
        response = client.post("/admin/api/import", content=exported.content, headers={**h, "X-Filename": "back.csv"})
        assert response.json() == {"added": 0, "updated": 0, "unchanged": 2}, response.text


def test_write_csv_quotes_each_formula_start_and_read_csv_undoes_exactly_that(tmp_path):
    from dictionary.csvio import read_csv, write_csv
    from dictionary.entries import Entry

    notes = ["=A1", "+A1", "-A1", "@A1", "'=A1", "''+A1", "'plain", "a=b", "1-2", "'", "\t=A1", "\r=A1", "ok"]
    entries = [Entry(surface=f"語{i}", reading="ご", note=note, source="x:1") for i, note in enumerate(notes)]
    path = tmp_path / "notes.csv"
    write_csv(path, entries)
    text = path.read_bytes().decode("utf-8-sig")
    for row in list(__import__("csv").reader(__import__("io").StringIO(text, newline="")))[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), row
    read = [e.note for e in read_csv(path).entries]
    assert read[:10] == notes[:10] and read[12] == "ok"


# ------------------------------------------------------------------- 5. cross-site login


def test_login_refuses_cross_site_and_non_json_posts_without_counting_them(server):
    with httpx.Client(base_url=base(server), timeout=60) as client:
        for _ in range(10):
            cross = client.post("/admin/api/login", content=json.dumps({"password": "wrong-password"}),
                                headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})  # fmt: skip
            assert cross.status_code == 403, cross.text
            plain = client.post("/admin/api/login", content=json.dumps({"password": "wrong-password"}),
                                headers={"Content-Type": "text/plain"})  # fmt: skip
            assert plain.status_code == 415, plain.text
            fetched = client.post("/admin/api/login", json={"password": "wrong-password"}, headers={"Sec-Fetch-Site": "cross-site"})
            assert fetched.status_code == 403, fetched.text
        assert client.post("/admin/api/login", json={"password": PASSWORD},
                           headers={"Origin": base(server), "Sec-Fetch-Site": "same-origin"}).status_code == 200  # fmt: skip


# ------------------------------------------------------------------------- 6. bad input


def test_bad_input_is_a_clear_400_without_a_traceback(server, capfd):
    deep = b"[" * 2000 + b"]" * 2000  # within the login's 4 KB
    with httpx.Client(base_url=base(server), timeout=60) as client:
        assert client.post("/admin/api/login", content=deep, headers={"Content-Type": "application/json"}).status_code == 400
        assert client.post("/admin/api/login", content=b'{"password":' + b"1" * 4100 + b"}",
                           headers={"Content-Type": "application/json"}).status_code in (400, 413)  # fmt: skip
        h = login(client)
        for priority in ("²", "٣", "1" * 5000, 10**12, "1e3", True, 1.5):
            body = json.dumps({"surface": "富海", "reading": "とのみ", "priority": priority})
            response = client.post("/admin/api/words", content=body, headers={**h, "Content-Type": "application/json"})
            assert response.status_code == 400 and "priority" in response.json()["error"], (str(priority)[:20], response.text)
        body = b'{"surface": "\xe5\xaf\x8c\xe6\xb5\xb7", "reading": "x", "priority": ' + b"1" * 5000 + b"}"  # a JSON number
        response = client.post("/admin/api/words", content=body, headers={**h, "Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        for body in (b"[" * 4000 + b"]" * 4000, b'{"surface":' * 3000 + b"1" + b"}" * 3000):
            response = client.post("/admin/api/words", content=body, headers={**h, "Content-Type": "application/json"})
            assert response.status_code == 400, response.text
        csv_big = ("表記,読み,優先度\n富海,とのみ," + "1" * 5000 + "\n").encode()
        response = client.post("/admin/api/import", content=csv_big, headers={**h, "X-Filename": "big.csv"})
        assert response.status_code == 400 and any("priority" in p for p in response.json()["problems"]), response.text
        ok = client.post("/admin/api/words", json={"surface": "富海", "reading": "とのみ", "priority": "12"}, headers=h)
        assert ok.status_code == 200 and ok.json()["entry"]["priority"] == 12
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out


# ---------------------------------------------------------------------- 8. the Host header


def test_an_unknown_host_header_is_refused_and_redirects_stay_relative(server):
    with httpx.Client(base_url=base(server)) as client:
        for path in ("/", "/admin", "/admin/", "/qr.svg?pin=" + PIN, "/static/viewer.js"):
            response = client.get(path, headers={"Host": "evil.example"})
            assert response.status_code == 400 and b"evil.example" not in response.content, path
            assert "evil" not in response.headers.get("location", ""), path
        for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "127.0.0.1"):
            assert client.get("/", headers={"Host": host}).status_code == 200, host
        redirect = client.get("/admin/", headers={"Host": f"localhost:{server.port}"})
        assert redirect.status_code in (301, 302, 307, 308) and redirect.headers["location"] == "/admin"
        qr = client.get("/qr.svg", params={"pin": PIN}, headers={"Host": f"localhost:{server.port}"})
        assert qr.status_code == 200
    assert raw_upgrade(server.port, "evil.example", f"/ws?pin={PIN}") in (400, 403)
    assert raw_upgrade(server.port, f"127.0.0.1:{server.port}", f"/ws?pin={PIN}") == 101


def raw_upgrade(port: int, host: str, path: str, origin: str | None = None) -> int:
    """The status of a WebSocket handshake sent by hand (any Host and Origin)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]  # fmt: skip
    if origin:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = connection.recv(4096).split(b"\r\n", 1)[0]
    return int(status.split()[1])


# ------------------------------------------------------------------------ 9. hardening


def test_static_files_and_404s_have_the_security_headers(server):
    with httpx.Client(base_url=base(server)) as client:
        for path in ("/static/viewer.js", "/static/admin.css", "/no-such-page", "/static/nothing.js", "/"):
            headers = client.get(path).headers
            assert headers.get("x-content-type-options") == "nosniff", path
            assert headers.get("x-frame-options") == "DENY", path
            csp = headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in csp, path
            connect = next(part for part in csp.split(";") if "connect-src" in part).split()
            assert "ws:" not in connect and "wss:" not in connect, csp  # not any host
            assert connect[:2] == ["connect-src", "'self'"], csp


def test_websocket_closes_on_a_big_client_message(folder):
    s = start(folder)
    try:
        async def run():
            async with websockets.connect(f"ws://127.0.0.1:{s.port}/ws", max_size=None) as socket_:
                while json.loads(await socket_.recv())["t"] != "live":
                    pass
                await socket_.send("x" * 200_000)
                try:
                    while True:
                        await asyncio.wait_for(socket_.recv(), 5)
                except websockets.ConnectionClosed as e:
                    return e.rcvd.code if e.rcvd else None

        assert asyncio.run(run()) == 1009  # message too big
    finally:
        s.stop()


def test_scrypt_uses_n_2_17_and_old_hashes_still_verify():
    import base64
    import hashlib

    scheme, n, r, p, _, _ = HASH.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)
    assert verify_password(PASSWORD, HASH)
    old_salt = b"s" * 16
    old = hashlib.scrypt(PASSWORD.encode(), salt=old_salt, n=2**14, r=8, p=1, dklen=32)
    old_hash = f"scrypt$16384$8$1${base64.b64encode(old_salt).decode()}${base64.b64encode(old).decode()}"
    assert verify_password(PASSWORD, old_hash) and not verify_password("wrong-password", old_hash)
    assert not verify_password(PASSWORD, f"scrypt${2**30}$8$1${base64.b64encode(old_salt).decode()}$AAAA")


def test_https_with_a_generated_self_signed_certificate(folder, tmp_path):
    from web.tls import make_self_signed

    cert, key = make_self_signed(tmp_path / "tls", names=["localhost", "127.0.0.1"])
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    s = start(folder, viewer_pin=PIN, tls_cert=str(cert), tls_key=str(key))
    try:
        assert s.url.startswith("https://")
        import ssl

        context = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=f"https://127.0.0.1:{s.port}", verify=context) as client:
            assert client.get("/").status_code == 200
            response = client.post("/admin/api/login", json={"password": PASSWORD})
            assert response.status_code == 200 and "secure" in response.headers["set-cookie"].lower()
        key_param = s.url.split("key=")[1]
        assert asyncio.run(ws_outcome(f"wss://127.0.0.1:{s.port}/ws?key={key_param}", ssl=context)) == "hello"
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not served on the TLS port
            httpx.get(f"http://127.0.0.1:{s.port}/", timeout=5)
    finally:
        s.stop()


def test_make_cert_command_writes_the_files_and_the_config(tmp_path):
    from captioner.app.config import load_config

    config = tmp_path / "config.yaml"
    config.write_text("web:\n  port: 9000\n", encoding="utf-8")
    env = {**__import__("os").environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "captioner", "admin", "make-cert", "--config", str(config), "--name", "counter-pc.local"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = load_config(config).web
    assert loaded.port == 9000 and loaded.tls_cert.endswith(".pem") and loaded.tls_key.endswith(".pem")
    text = subprocess.run(["openssl", "x509", "-in", loaded.tls_cert, "-noout", "-text"], capture_output=True, text=True, check=True).stdout
    assert "counter-pc.local" in text and "127.0.0.1" in text
    assert "Traceback" not in done.stderr


def test_tls_options_must_come_in_pairs_and_exist(tmp_path):
    options = WebOptions(tls_cert=str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="tls_key"):
        options.validate()
    options = WebOptions(tls_cert=str(tmp_path / "missing.pem"), tls_key=str(tmp_path / "missing-key.pem"))
    from captioner.core.errors import CaptionerError

    with pytest.raises(CaptionerError, match="missing.pem"):
        WebServer(options, CaptionHub()).start()


def test_admin_page_answers_only_this_pc_unless_opened(folder):
    """The client address is the only thing that differs; a real server on loopback cannot
    see another machine, so this one uses the application with a LAN client address."""
    from starlette.testclient import TestClient

    from web.server import create_app

    admin = AdminContext(HASH, b"k" * 32, DictionaryAdmin(folder))
    for admin_lan, expected in ((False, 403), (True, 200)):
        app = create_app(WebOptions(host="0.0.0.0", admin_lan=admin_lan), CaptionHub(), admin=admin)
        with TestClient(app, base_url="http://127.0.0.1:8765", client=("192.168.1.20", 50000)) as lan:
            assert lan.get("/admin").status_code == expected
            assert lan.post("/admin/api/login", json={"password": PASSWORD}).status_code == expected
            assert lan.get("/").status_code == 200  # the viewer is for the LAN
    app = create_app(WebOptions(host="0.0.0.0"), CaptionHub(), admin=admin)
    with TestClient(app, base_url="http://127.0.0.1:8765", client=("127.0.0.1", 50000)) as local:
        assert local.get("/admin").status_code == 200


def test_this_pc_reaches_its_admin_and_clerk_pages_through_a_server_on_ipv6_any(folder):
    """Issue 27 (Low): with ``web.host: "::"`` a connection from 127.0.0.1 arrives as
    ::ffff:127.0.0.1, and the PC itself got 403 on its own admin page."""
    from starlette.testclient import TestClient

    from web.gate import is_loopback
    from web.server import create_app

    assert is_loopback("::ffff:127.0.0.1") and is_loopback("::1") and not is_loopback("::ffff:192.168.1.20")
    admin = AdminContext(HASH, b"k" * 32, DictionaryAdmin(folder))
    app = create_app(WebOptions(host="::"), CaptionHub(), admin=admin)
    with TestClient(app, base_url="http://127.0.0.1:8765", client=("::ffff:127.0.0.1", 50000)) as local:
        assert local.get("/admin").status_code == 200
        assert local.get("/admin/clerk/api/state").status_code == 200
    with TestClient(app, base_url="http://127.0.0.1:8765", client=("::ffff:192.168.1.20", 50000)) as lan:
        assert lan.get("/admin").status_code == 403


def test_another_site_cannot_embed_the_qr_code():
    """Issue 27 (Low): /qr.svg (it holds the viewer key) answered another site's image request."""
    from starlette.testclient import TestClient

    from web.server import create_app

    app = create_app(WebOptions(host="0.0.0.0", viewer_pin="604817"), CaptionHub())
    with TestClient(app, base_url="http://127.0.0.1:8765", client=("127.0.0.1", 50000)) as local:
        assert local.get("/qr.svg", params={"pin": "604817"}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert local.get("/qr.svg", params={"pin": "604817"}, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
        assert local.get("/", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200  # a link to the viewer still works


@pytest.mark.parametrize("name", ["counter-pc.local,DNS:bank.example", "a/CN=evil", "two words", "x" * 300])
def test_make_cert_refuses_a_name_that_would_add_other_names(tmp_path, name):
    """Issue 27 (Low): ``make-cert --name`` took commas, which added names to the certificate."""
    from web.tls import make_self_signed

    with pytest.raises(CaptionerError, match="neither a host name"):
        make_self_signed(tmp_path / "tls", names=["localhost", name])
    assert not (tmp_path / "tls" / "web-cert.pem").exists()


def test_one_address_cannot_hold_hundreds_of_viewer_sockets():
    """Issue 27 (Medium): one client could hold 500+ viewer WebSockets; now 16 per address (this
    PC is not counted), and a closed one frees its place."""
    from contextlib import ExitStack

    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from web.gate import SOCKETS_PER_CLIENT, TOO_MANY
    from web.server import create_app

    app = create_app(WebOptions(host="0.0.0.0"), CaptionHub())
    with TestClient(app, base_url="http://127.0.0.1:8765", client=("192.168.1.30", 50000)) as lan, ExitStack() as held:
        for _ in range(SOCKETS_PER_CLIENT):
            held.enter_context(lan.websocket_connect("/ws")).receive_json()  # hello
        with lan.websocket_connect("/ws") as extra, pytest.raises(WebSocketDisconnect) as closed:
            extra.receive_json()
        assert closed.value.code == TOO_MANY
        held.close()
        with lan.websocket_connect("/ws") as again:
            assert again.receive_json()["t"] == "hello"


def test_a_tablet_cannot_flood_the_clerk_with_replies_and_buttons():
    """Issue 27 (Medium): replies, buttons and survey answers had no rate limit."""
    from starlette.testclient import TestClient

    from web.gate import TABLET_POSTS
    from web.server import create_app

    app = create_app(WebOptions(host="0.0.0.0"), CaptionHub())
    with TestClient(app, base_url="http://127.0.0.1:8765", client=("192.168.1.40", 50000)) as tablet:
        for _ in range(TABLET_POSTS):
            assert tablet.post("/api/button", json={"button": "yes"}).status_code == 200
        flooded = tablet.post("/api/reply", json={"text": "はい"})
        assert flooded.status_code == 429 and "Retry-After" in flooded.headers
    with TestClient(app, base_url="http://127.0.0.1:8765", client=("192.168.1.41", 50000)) as other:
        assert other.post("/api/button", json={"button": "no"}).status_code == 200  # another tablet is not held up


def test_known_hosts_include_this_machine():
    from web.gate import known_hosts

    hosts = known_hosts(WebOptions(host="0.0.0.0", server_name="Counter-PC.example"))
    assert {"127.0.0.1", "localhost", "::1", "counter-pc.example"} <= hosts
    assert socket.gethostname().lower() in hosts
    assert "evil.example" not in hosts


def test_run_warns_about_an_open_network_setup():
    from web.runner import security_warnings

    assert security_warnings(WebOptions()) == []  # this PC only: nothing to warn about
    assert any("viewer_pin" in w for w in security_warnings(WebOptions(host="0.0.0.0")))
    assert any("short" in w for w in security_warnings(WebOptions(host="0.0.0.0", viewer_pin="2468")))
    assert any("clear text" in w for w in security_warnings(WebOptions(host="0.0.0.0", viewer_pin="604817", admin_lan=True)))
    assert security_warnings(WebOptions(host="0.0.0.0", viewer_pin="604817", admin_lan=True, tls_cert="c", tls_key="k")) == []


def test_a_dropped_counter_tablet_stays_out_after_a_restart(tmp_path):
    """Issue 27: the dropped counter tablets were kept in memory only, so after a restart of
    ``captioner run`` a tablet the clerk had dropped (a lost one) was let in again by its signed
    token. The list is kept in the data folder (this user only) for the PIN it was made under."""

    def serve(pin: str = PIN) -> WebServer:
        server = WebServer(WebOptions(port=0, viewer_pin=pin), CaptionHub(), viewer_secret=b"s" * 32)
        server.start()
        return server

    def outcome(server, token: str):
        return asyncio.run(ws_outcome(f"ws://127.0.0.1:{server.port}/ws?key={token}"))

    async def counter_tablet(server) -> dict:
        socket_, hello = await hello_of(f"ws://127.0.0.1:{server.port}/ws?pin={PIN}")
        await socket_.close()
        return hello["tablet"]

    first = serve()
    try:
        lost, kept = asyncio.run(counter_tablet(first)), asyncio.run(counter_tablet(first))
        with httpx.Client(base_url=base(first)) as clerk:
            assert clerk.post("/admin/clerk/api/tablets/drop", json={"id": lost["id"]}).status_code == 200
    finally:
        first.stop()
    again = serve()
    try:
        assert outcome(again, lost["key"]) == PIN_CLOSE
        assert outcome(again, kept["key"]) == "hello"  # the other counter tablet is still let in
    finally:
        again.stop()
    assert (tmp_path / "data" / "captioner" / "dropped-tablets.json").stat().st_mode & 0o777 == 0o600


def test_the_counters_tablet_stays_across_a_restart_until_dropped_or_the_pin_changes(folder):
    """A counter tablet's token is signed with the setup key: after a restart of ``captioner run``
    (same install secret and PIN) it is let in again without the PIN, a phone's is not; after
    the clerk drops it, or with another PIN, it is refused."""

    def serve(pin: str) -> WebServer:
        server = WebServer(WebOptions(port=0, viewer_pin=pin), CaptionHub(), viewer_secret=b"s" * 32)
        server.start()
        return server

    first = serve(PIN)
    try:
        with httpx.Client(base_url=base(first)) as clerk:
            key = qr_key(clerk)

        async def tablets():
            phone, phone_tablet, counter, counter_tablet = await phone_and_counter(first, key)
            await phone.close()
            await counter.close()
            return phone_tablet, counter_tablet

        phone, counter = asyncio.run(tablets())
    finally:
        first.stop()
    again = serve(PIN)
    try:
        ws = f"ws://127.0.0.1:{again.port}/ws"
        assert asyncio.run(ws_outcome(f"{ws}?key={counter['key']}")) == "hello"
        assert asyncio.run(ws_outcome(f"{ws}?key={phone['key']}")) == PIN_CLOSE
        with httpx.Client(base_url=base(again)) as clerk:
            assert [t["id"] for t in clerk.get("/admin/clerk/api/tablets").json()["tablets"]] == [counter["id"]]
            assert clerk.post("/admin/clerk/api/tablets/drop", json={"id": counter["id"]}).status_code == 200
        assert asyncio.run(ws_outcome(f"{ws}?key={counter['key']}")) == PIN_CLOSE
    finally:
        again.stop()
    other_pin = serve("9753")
    try:
        assert asyncio.run(ws_outcome(f"ws://127.0.0.1:{other_pin.port}/ws?key={counter['key']}")) == PIN_CLOSE
    finally:
        other_pin.stop()
