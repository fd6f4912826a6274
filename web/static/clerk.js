// The clerk's screen: live captions and the resident's replies (newest at the bottom), click a
// caption to correct it (every screen replaces it), register the fix in the dictionary, send
// quick phrases, end the conversation, see and drop the connected tablets. Everything typed is shown with textContent (never HTML).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = { csrf: null, items: new Map(), socket: null, retry: 0, audio: null, seen: {} };
  const BUTTON_NAMES = { again: "もう一度", slower: "ゆっくり", unclear: "わかりません", yes: "はい", no: "いいえ" };
  const LANGUAGE_NAMES = { en: "英語", vi: "ベトナム語", zh: "中国語", ko: "韓国語", pt: "ポルトガル語", es: "スペイン語", tl: "タガログ語", ne: "ネパール語", id: "インドネシア語", th: "タイ語", my: "ミャンマー語" };

  async function api(path, body) {
    const headers = { "Content-Type": "application/json" };
    if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
    const response = await fetch(path, { method: body === undefined ? "GET" : "POST", headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { status: response.status });
    return data;
  }

  function message(text, ok) {
    const el = $("message");
    el.textContent = text; el.className = ok ? "ok" : "error";
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function chime() {
    if (!$("chime").checked) return;
    try {
      const audio = state.audio || (state.audio = new AudioContext());
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      osc.connect(gain).connect(audio.destination); osc.start(); osc.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio: the highlight is the cue */ }
  }

  // ------------------------------------------------------------------------------ the log
  function show(u) {
    let item = state.items.get(u.id);
    const fresh = !item;
    if (!item) {
      if (!u.text && !Object.keys(u.tr || {}).length) return;
      const li = el("li");
      li.dataset.id = String(u.id);
      li.append(el("div", "text"), el("div", "original"), el("div", "meta"), el("div", "tools"));
      li.tabIndex = 0;
      li.addEventListener("click", (e) => { if (!e.target.closest(".tools")) startEdit(u.id); });
      li.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.target === li) startEdit(u.id); });
      item = { li, u };
      state.items.set(u.id, item);
      const log = $("log");
      const atBottom = log.parentElement.scrollHeight - log.parentElement.scrollTop - log.parentElement.clientHeight < 40;
      log.append(li);
      if (atBottom || u.src === "resident") li.scrollIntoView({ block: "end" });
    }
    item.u = u;
    const { li } = item;
    li.className = [u.src === "resident" ? "resident" : "clerk", u.final ? "final" : "partial", u.corr ? "corrected" : ""].join(" ");
    ClerkTakeaway.fill(li.querySelector(".text"), u.text, u.facts);
    const original = u.src === "resident" && u.lang !== "ja" ? (u.tr || {})[u.lang] : "";
    li.querySelector(".original").textContent = original && original !== u.text ? `原文（${LANGUAGE_NAMES[u.lang] || u.lang}）: ${original}` : "";
    const meta = li.querySelector(".meta");
    const badges = [];
    if (u.src === "resident") badges.push(el("span", "badge resident", u.btn ? "住民のボタン" : "住民の返信"));
    if (u.btn) badges.push(el("span", "badge button", BUTTON_NAMES[u.btn] || u.btn));
    if (u.corr) badges.push(el("span", "badge corrected", "訂正済み"));
    if (u.note) badges.push(el("span", "note", u.note));
    if (u.final && u.text) badges.push(ClerkTakeaway.leaveOut(u.id));
    meta.replaceChildren(...badges);
    if (fresh && u.src === "resident") {
      li.classList.add("fresh");
      state.seen[u.text] = Date.now();
      if (original) state.seen[original] = Date.now();
      chime();
      document.title = "● 返信があります — 窓口の画面";
      setTimeout(() => { document.title = "窓口の画面 — 字幕と返信"; }, 4000);
    }
  }

  function ended(m) {
    const li = el("li", "ended", m.reason === "idle" ? "会話が終わりました（一定時間やりとりがありません）" : "会話を終了しました");
    $("log").append(li);
    li.scrollIntoView({ block: "end" });
  }

  // ------------------------------------------------------------------------- correction
  function diff(before, after) {
    const a = Array.from(before), b = Array.from(after);
    let p = 0;
    while (p < a.length && p < b.length && a[p] === b[p]) p++;
    let s = 0;
    while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
    return [a.slice(p, a.length - s).join(""), b.slice(p, b.length - s).join("")];
  }

  function startEdit(id) {
    const item = state.items.get(id);
    if (!item || !item.u.final || item.u.src === "resident") return;
    const tools = item.li.querySelector(".tools");
    if (tools.querySelector(".edit")) return;
    const form = el("form", "edit");
    const input = el("input");
    input.value = item.u.text; input.maxLength = 500; input.setAttribute("aria-label", "訂正した字幕");
    const save = el("button", "primary", "訂正を送る"); save.type = "submit";
    const cancel = el("button", "", "やめる"); cancel.type = "button";
    cancel.addEventListener("click", () => form.remove());
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const before = item.u.text, after = input.value.trim();
      if (!after || after === before) { form.remove(); return; }
      try {
        await api("/admin/clerk/api/correct", { id, text: after });
        form.remove();
        message("訂正しました。タブレットと字幕画面に反映されます。", true);
        offerRegister(item, before, after);
      } catch (err) { message(err.message, false); }
    });
    form.append(input, save, cancel);
    tools.replaceChildren(form);
    input.focus();
  }

  function offerRegister(item, before, after) {
    const [wrong, right] = diff(before, after);
    if (!wrong || !right) return;
    const box = el("div", "register");
    const wrongInput = el("input"); wrongInput.value = wrong; wrongInput.setAttribute("aria-label", "誤った表記");
    const rightInput = el("input"); rightInput.value = right; rightInput.setAttribute("aria-label", "正しい表記");
    const reading = el("input"); reading.placeholder = "読み（空欄なら自動）"; reading.setAttribute("aria-label", "読み");
    const go = el("button", "primary register-fix", "辞書に登録"); go.type = "button";
    const close = el("button", "", "閉じる"); close.type = "button";
    close.addEventListener("click", () => box.remove());
    go.addEventListener("click", async () => {
      try {
        const r = await api("/admin/clerk/api/register", { wrong: wrongInput.value, surface: rightInput.value, reading: reading.value });
        box.remove();
        message(r.status === "added"
          ? `「${r.surface}」（${r.reading}）を登録し、「${r.alias}」をその誤認識として登録しました。次の字幕から直ります。`
          : `「${r.alias}」を「${r.surface}」の誤認識として登録しました。次の字幕から直ります。`, true);
      } catch (err) { message(err.message, false); }
    });
    box.append(el("span", "", "辞書に登録:"), wrongInput, el("span", "", "→"), rightInput, reading, go, close);
    item.li.querySelector(".tools").replaceChildren(box);
  }

  // ------------------------------------------------------------------------- connection
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${proto}//${location.host}/admin/clerk/ws`);
    state.socket = socket;
    socket.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.t === "hello") {
        if (m.reset) { state.items.clear(); $("log").replaceChildren(); }
        state.retry = 0;
      } else if (m.t === "cap") {
        show(m.u);
      } else if (m.t === "conv") {
        if (m.state === "ended") { ended(m); refreshTablets(); }
      } else if (m.t === "live") {
        $("conn").textContent = "接続中"; $("conn").classList.remove("bad");
      }
    };
    socket.onclose = (e) => {
      if (state.socket !== socket) return;
      $("conn").textContent = "接続が切れました。再接続しています…"; $("conn").classList.add("bad");
      if (e.code === 4403 || e.code === 1008) { deny(); return; }
      setTimeout(connect, Math.min(5000, 500 * 2 ** state.retry++));
    };
  }

  // ---------------------------------------------------------------- tablets (web/tablets.py)
  const KIND_NAMES = { counter: "窓口のタブレット", guest: "住民の端末（この会話のみ）", open: "端末" };

  async function refreshTablets() {
    let data;
    try { data = await api("/admin/clerk/api/tablets"); } catch (e) { return; }
    $("tablets").replaceChildren(...data.tablets.map((t) => {
      const li = el("li", t.connected ? "" : "idle");
      li.dataset.tablet = t.id;
      const since = new Date(t.since * 1000).toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit" });
      li.append(el("span", "", `${KIND_NAMES[t.kind] || t.kind} ${t.id}（${t.address}、${since} から${t.connected ? "" : "、切断中"}）`));
      const b = el("button", "drop", "切断"); b.type = "button";
      b.addEventListener("click", async () => {
        try { await api("/admin/clerk/api/tablets/drop", { id: t.id }); message(`端末 ${t.id} を切断しました。`, true); }
        catch (err) { message(err.message, false); }
        refreshTablets();
      });
      li.append(b);
      return li;
    }));
    if (!$("tablets").children.length) $("tablets").append(el("li", "idle", "なし"));
    const qr = "/qr.svg?" + new URLSearchParams(new URL(data.viewer).search);
    if ($("qr").dataset.src !== qr) { $("qr").dataset.src = qr; if (!$("qr").hidden) $("qr").src = qr; }
    $("tablets-bar").hidden = false;
  }

  function deny() {
    $("denied").hidden = false; $("app").hidden = true; $("phrases-bar").hidden = true; $("end").hidden = true;
    $("tablets-bar").hidden = true;
  }

  function showPhrases(phrases) {
    $("phrases").replaceChildren(...phrases.map((text) => {
      const b = el("button", "phrase", text); b.type = "button";
      b.addEventListener("click", async () => {
        try { await api("/admin/clerk/api/phrase", { text }); message(`「${text}」を送りました。`, true); }
        catch (err) { message(err.message, false); }
      });
      return b;
    }));
    $("phrases-bar").hidden = !phrases.length;
  }

  async function start() {
    let info;
    try { info = await api("/admin/clerk/api/state"); }
    catch (e) { if (e.status === 403) return deny(); message(e.message, false); return; }
    state.csrf = info.csrf;
    $("chime").checked = localStorage.getItem("cc-clerk-chime") !== "off";
    $("chime").addEventListener("change", () => localStorage.setItem("cc-clerk-chime", $("chime").checked ? "on" : "off"));
    $("end").addEventListener("click", async () => {
      try { await api("/admin/clerk/api/end", {}); message("会話を終了しました。タブレットにアンケートを表示しています。", true); }
      catch (err) { message(err.message, false); return; }
      ClerkTakeaway.issue(true);
    });
    showPhrases(info.phrases || []);
    $("show-qr").addEventListener("click", () => {
      const qr = $("qr");
      qr.hidden = !qr.hidden;
      if (!qr.hidden) qr.src = qr.dataset.src;
      $("show-qr").setAttribute("aria-expanded", String(!qr.hidden));
    });
    ClerkTakeaway.bind(api, message);
    $("app").hidden = false;
    connect();
    refreshTablets();
    setInterval(refreshTablets, 3000);
  }

  window.__clerk = { state, startEdit, diff };
  start();
})();
