"""Pictures for registered words (upload checks, serving, the hub's marks) and the resident's
phone page (one-time key, expiry, masking, the clerk leaving a line out), over HTTP."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from dictionary.csvio import read_csv, write_csv
from dictionary.pictures import MAX_BYTES, PictureError, check_upload
from dictionary.store import load_folder
from display.highlights import Highlights
from tests.takeaway_support import SVG_CARD, Clock, dictionary_folder, png_bytes
from tests.web_support import event
from web.admin import DictionaryAdmin, hash_password
from web.gate import AdminContext
from web.hub import CaptionHub
from web.marks import marker
from web.options import WebOptions
from web.server import create_app

PASSWORD = "counter-admin-1"
HASH = hash_password(PASSWORD)
LOCAL = ("127.0.0.1", 50000)


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def folder(tmp_path):
    return dictionary_folder(tmp_path)


@pytest.fixture
def app(folder):
    hub = CaptionHub()
    entries = load_folder(folder).entries
    hub.marker = marker(Highlights(lambda: entries, folder))
    admin = AdminContext(HASH, b"k" * 32, DictionaryAdmin(folder))
    return create_app(WebOptions(), hub, admin=admin)


@pytest.fixture
def client(app):
    with TestClient(app, client=LOCAL, base_url="http://127.0.0.1:8765") as c:
        yield c


def login(client) -> dict[str, str]:
    response = client.post("/admin/api/login", json={"password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"x-csrf-token": response.json()["csrf"]}


# ---------------------------------------------------------------------------- upload checks


def test_upload_stores_a_png_beside_the_dictionary_and_serves_it(client, folder):
    headers = login(client)
    data = png_bytes((40, 30))
    response = client.post("/admin/api/pictures", content=data, headers={**headers, "x-filename": "counter.png"})
    assert response.status_code == 200, response.text
    assert (folder / "pictures" / "counter.png").read_bytes() == data
    served = client.get("/pictures/counter.png")
    assert served.status_code == 200 and served.content == data and served.headers["content-type"] == "image/png"
    assert "counter.png" in client.get("/admin/api/pictures", headers=headers).json()["pictures"]


@pytest.mark.parametrize(
    ("name", "data", "status", "says"),
    [
        ("notes.png", b"just some text, not a picture", 415, "PNG画像ではありません"),
        ("notes.txt", png_bytes(), 415, "PNG・JPEG・SVG"),
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_BYTES, 413, "大きすぎます"),
        ("../escape.png", png_bytes(), 400, "フォルダを含まない"),
        ("sub/dir.png", png_bytes(), 400, "フォルダを含まない"),
        ("..\\win.png", png_bytes(), 400, "フォルダを含まない"),
        ("script.svg", SVG_CARD.replace(b"</svg>", b"<script>alert(1)</script></svg>"), 415, "<script>"),
        ("handler.svg", SVG_CARD.replace(b"<rect ", b'<rect onload="alert(1)" ', 1), 415, "onload"),
        ("truncated.png", png_bytes()[:60], 415, "読めません"),
    ],
)
def test_upload_refuses_what_is_not_a_small_plain_picture(client, folder, name, data, status, says):
    headers = login(client)
    response = client.post("/admin/api/pictures", content=data, headers={**headers, "x-filename": name})
    assert response.status_code == status, response.text
    assert says in response.json()["error"]
    assert sorted(p.name for p in (folder / "pictures").iterdir()) == ["mynumber.png", "shiminka.svg"]  # nothing written
    assert not (folder.parent / "escape.png").exists()


def test_upload_needs_the_admin_session_and_its_csrf_token(client):
    assert client.post("/admin/api/pictures", content=png_bytes(), headers={"x-filename": "a.png"}).status_code == 401
    login(client)
    assert client.post("/admin/api/pictures", content=png_bytes(), headers={"x-filename": "a.png"}).status_code == 403


def test_check_upload_reads_the_content_not_the_name():
    with pytest.raises(PictureError):
        check_upload("photo.jpg", png_bytes())  # a PNG named .jpg
    assert check_upload("card.svg", SVG_CARD) == "image/svg+xml"


def test_a_picture_is_an_entry_field_carried_by_csv_export_and_import(folder, tmp_path):
    entries = load_folder(folder).entries
    assert {e.surface: e.picture for e in entries}["マイナンバーカード"] == "mynumber.png"
    write_csv(tmp_path / "out.csv", entries)
    assert "絵" in (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    back = read_csv(tmp_path / "out.csv")
    assert [(e.surface, e.picture) for e in back.entries] == [(e.surface, e.picture) for e in entries]


def test_a_picture_named_by_a_path_in_a_word_file_is_reported_and_dropped(tmp_path):
    (tmp_path / "words.yaml").write_text("- {surface: 市民課, reading: しみんか, picture: ../../etc/x.png}\n", encoding="utf-8")
    result = load_folder(tmp_path)
    assert [e.picture for e in result.entries] == [""]
    assert "not a path" in result.problems[0].message and result.problems[0].line == 1


# ---------------------------------------------------------------------------- marks in the hub


def test_a_final_carries_its_facts_and_the_picture_of_its_registered_word(app):
    hub = app.state.takeaway.hub
    hub.publish(event("final", 1, "マイナンバーカードは三百円で、7月9日までにどうぞ。", start=0, end=2))
    message = hub.state_of(1).message()["u"]
    text = message["text"]
    assert [text[s:e] for s, e, _ in message["facts"]] == ["マイナンバーカード", "三百円", "7月9日"]
    assert message["pic"] == {"word": "マイナンバーカード", "src": "/pictures/mynumber.png"}
    hub.publish(event("partial", 2, "市民課で", start=3, end=4))
    assert "pic" not in hub.state_of(2).message()["u"]  # only a final shows a picture
    hub.publish(event("final", 3, "福祉課へどうぞ", start=5, end=6))
    assert hub.state_of(3).message()["u"]["pic"] == {"word": "福祉課", "card": "2階 5番窓口"}


# ---------------------------------------------------------------------------- the phone page


def conversation(app, clock):
    takeaway = app.state.takeaway
    takeaway.clock = clock
    hub = takeaway.hub
    hub.publish(event("final", 1, "マイナンバーカードの手数料は三百円です。", start=0, end=2))
    hub.publish(event("final", 2, "お電話番号は090-1234-5678ですね。", start=3, end=5))
    hub.publish(event("final", 3, "7月9日の午後3時に市民課へお越しください。", start=6, end=8))
    return takeaway


def issue(client) -> str:
    response = client.post("/admin/clerk/api/takeaway/issue", json={})
    assert response.status_code == 200, response.text
    state = client.get("/admin/clerk/api/takeaway").json()
    assert state["issued"] and not state["opened"]
    return client.app.state.takeaway.key


def test_the_phone_page_opens_once_and_lists_the_facts_masked(client):
    takeaway = conversation(client.app, Clock())
    key = issue(client)
    phone = TestClient(client.app, client=("192.168.1.23", 40000))
    page = phone.get(f"/t?k={key}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/t"
    shown = phone.get("/t")
    assert shown.status_code == 200
    html = shown.text
    assert "大事なこと" in html and "<strong>300円</strong>" in html and "<strong>7月9日</strong>" in html
    assert "<strong>午後3時</strong>" in html and "マイナンバーカード" in html
    assert "090-1234-5678" not in html and "[電話番号]" in html  # the log's masking rules
    assert '<img src="/pictures/mynumber.png"' in html
    other = TestClient(client.app, client=("192.168.1.24", 40000))
    assert other.get(f"/t?k={key}", follow_redirects=False).status_code == 404  # reused key
    assert other.get("/t").status_code == 404
    assert TestClient(client.app).get("/t?k=wrong-key").status_code == 404
    assert takeaway.key is None and takeaway.cookie is not None


def test_the_clerk_leaves_a_line_out_before_it_is_shown(client):
    conversation(client.app, Clock())
    assert client.post("/admin/clerk/api/takeaway/line", json={"id": 2}).status_code == 200
    key = issue(client)
    phone = TestClient(client.app)
    phone.get(f"/t?k={key}")
    html = phone.get("/t").text
    assert "お電話番号" not in html and "三百円" in html.replace("<strong class=\"fact\">", "").replace("</strong>", "")
    assert client.post("/admin/clerk/api/takeaway/line", json={"id": 99}).status_code == 404


def test_the_page_expires_after_the_set_time_and_nothing_is_left(client):
    clock = Clock()
    takeaway = conversation(client.app, clock)
    key = issue(client)
    phone = TestClient(client.app)
    phone.get(f"/t?k={key}")
    assert phone.get("/t").status_code == 200
    clock.now += 30 * 60 + 1
    gone = phone.get("/t")
    assert gone.status_code == 404 and "表示できません" in gone.text and "三百円" not in gone.text
    assert takeaway.lines == {} and takeaway.key is None and takeaway.cookie is None


def test_the_next_conversation_ends_the_last_ones_page(client):
    takeaway = conversation(client.app, Clock())
    key = issue(client)
    phone = TestClient(client.app)
    phone.get(f"/t?k={key}")
    client.post("/admin/clerk/api/end", json={})
    client.app.state.takeaway.hub.publish(event("final", 10, "次の方どうぞ。", start=20, end=21))
    assert phone.get("/t").status_code == 404
    assert [line.text for line in takeaway.lines.values()] == ["次の方どうぞ。"]


def test_nothing_to_take_away_is_refused(client):
    response = client.post("/admin/clerk/api/takeaway/issue", json={})
    assert response.status_code == 409 and "渡せる字幕がありません" in response.json()["error"]


# ---------------------------------------------------------------------------- bundles


def test_a_bundle_carries_the_pictures_and_refuses_a_disguised_one(tmp_path, monkeypatch):
    from captioner.app.bundle import create_bundle, install_bundle
    from captioner.core.errors import CaptionerError
    from captioner.core.paths import data_dir

    def home(name):
        for key, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("CAPTIONER_CACHE", "cache")):
            monkeypatch.setenv(key, str(tmp_path / name / sub))

    home("first")
    folder = dictionary_folder(tmp_path / "first-words")
    (data_dir()).mkdir(parents=True, exist_ok=True)
    import shutil

    shutil.copytree(folder, data_dir() / "dictionary")
    good = tmp_path / "good.zip"
    info = create_bundle(good, models=[], translation=False, config=False)
    assert {"pictures/mynumber.png", "pictures/shiminka.svg", "words.yaml"} <= set(info["dictionary_files"])
    (data_dir() / "dictionary" / "pictures" / "evil.png").write_bytes(b"<html>not a picture</html>")
    bad = tmp_path / "bad.zip"
    create_bundle(bad, models=[], translation=False, config=False)

    home("second")
    with pytest.raises(CaptionerError, match="evil.png"):
        install_bundle(bad)
    assert not (data_dir() / "dictionary").exists()
    install_bundle(good)
    assert (data_dir() / "dictionary" / "pictures" / "mynumber.png").read_bytes() == (folder / "pictures" / "mynumber.png").read_bytes()


def test_the_phone_page_is_in_the_residents_language_when_translated(client):
    takeaway = client.app.state.takeaway
    hub = takeaway.hub
    hub.publish(event("final", 1, "手数料は三百円です。", start=0, end=2, translations={"vi": "Lệ phí là 300 yên."}))
    hub.publish(event("final", 2, "Tôi hiểu rồi", start=3, end=4, source="resident", language="vi", translations={"vi": "Tôi hiểu rồi"}))
    key = issue(client)
    phone = TestClient(client.app)
    phone.get(f"/t?k={key}")
    html = phone.get("/t").text
    assert '<p class="tr" lang="vi">Lệ phí là 300 yên.</p>' in html and "Tôi hiểu rồi" in html
    assert "<strong>300円</strong>" in html  # the facts in the Japanese original, written in digits


def test_a_picture_the_clerk_shows_on_demand_is_on_the_phone_page(client):
    conversation(client.app, Clock())
    response = client.post("/admin/clerk/api/picture", json={"word": "福祉課"})
    assert response.status_code == 200, response.text
    assert client.post("/admin/clerk/api/picture", json={"word": "防府市"}).status_code == 404  # no picture
    assert [w["word"] for w in client.get("/admin/clerk/api/pictures").json()["words"]] == ["マイナンバーカード", "市民課", "福祉課"]
    key = issue(client)
    phone = TestClient(client.app)
    phone.get(f"/t?k={key}")
    assert '<div class="card">2階 5番窓口</div><figcaption>福祉課</figcaption>' in phone.get("/t").text
