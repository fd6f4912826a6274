// Admin page: login, status, dictionary search/add/edit/delete, CSV import/export.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  let csrf = null;

  async function api(method, path, body, extraHeaders) {
    const headers = { ...(extraHeaders || {}) };
    if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
    let payload = body;
    if (body !== undefined && !(body instanceof Blob)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) show("login");
    if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { data, status: response.status });
    return data;
  }

  function show(which) {
    $("locked").hidden = which !== "locked";
    $("login").hidden = which !== "login";
    $("app").hidden = which !== "app";
    $("logout").hidden = which !== "app";
  }

  function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }

  async function loadWords() {
    const data = await api("GET", "/admin/api/words?q=" + encodeURIComponent($("search").value));
    const rows = data.entries.map((e) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(e.surface), cell(e.reading),
        cell(Object.entries(e.translations).map(([k, v]) => `${k}: ${v}`).join("\n")),
        cell(e.aliases.join("、")), cell(e.file ? `${e.file}:${e.line}` : ""),
      );
      const actions = document.createElement("td");
      const edit = document.createElement("button");
      edit.type = "button"; edit.className = "secondary"; edit.textContent = "編集";
      edit.addEventListener("click", () => startEdit(e));
      const del = document.createElement("button");
      del.type = "button"; del.className = "secondary"; del.textContent = "削除";
      del.addEventListener("click", () => remove(e.surface));
      actions.append(edit, del);
      tr.append(actions);
      return tr;
    });
    $("words").replaceChildren(...rows);
    $("count").textContent = `${data.matched} 件表示（全 ${data.total} 語）`;
    $("problems").replaceChildren(...data.problems.map((p) => Object.assign(document.createElement("li"), { textContent: p })));
  }

  async function loadStatus() {
    try {
      const s = await api("GET", "/admin/api/status");
      const latest = s.latency.length ? s.latency[s.latency.length - 1].after_speech_s : null;
      const recent = s.latency.map((l) => l.after_speech_s.toFixed(2)).slice(-5).join(" / ");
      const items = [
        ["モデル", s.model || "—"], ["デバイス", [s.device, s.compute_type].filter(Boolean).join(" / ") || "—"],
        ...(s.model_note ? [["モデルの注意", s.model_note]] : []),
        ["マイク", s.microphone || "—"],
        ["字幕の遅れ（話し終わりから）", latest == null ? "まだ字幕がありません" : `${latest.toFixed(2)} 秒（直近: ${recent}）`],
        ["辞書の語数", s.dictionary_words == null ? "—" : String(s.dictionary_words)],
        ["表示中のタブレット", String(s.viewers)], ["字幕ページ", s.url],
      ];
      $("status").replaceChildren(...items.flatMap(([k, v]) => [
        Object.assign(document.createElement("dt"), { textContent: k }),
        Object.assign(document.createElement("dd"), { textContent: v }),
      ]));
    } catch (e) { /* shown on the next refresh */ }
  }

  function formValues() {
    const values = {
      surface: $("surface").value.trim(), reading: $("reading").value.trim(), aliases: $("aliases").value,
      note: $("note").value.trim(), priority: $("priority").value, picture: $("picture").value.trim(), translations: {},
    };
    if ($("tr-en").value.trim()) values.translations.en = $("tr-en").value.trim();
    return values;
  }

  function startEdit(e) {
    $("editing").value = e.surface;
    $("surface").value = e.surface; $("reading").value = e.reading;
    $("tr-en").value = e.translations.en || ""; $("aliases").value = e.aliases.join(";");
    $("note").value = e.note || ""; $("priority").value = e.priority || 0; $("picture").value = e.picture || "";
    $("save").textContent = "変更を保存"; $("cancel-edit").hidden = false;
    $("surface").focus();
  }

  function resetForm() {
    $("word-form").reset(); $("editing").value = "";
    $("save").textContent = "登録する"; $("cancel-edit").hidden = true;
  }

  async function remove(surface) {
    if (!confirm(`「${surface}」を削除しますか？`)) return;
    try {
      await api("DELETE", "/admin/api/words/" + encodeURIComponent(surface));
      message("form-message", `「${surface}」を削除しました。`, true);
      loadWords();
    } catch (e) { message("form-message", e.message, false); }
  }

  function message(id, text, ok) {
    const el = $(id);
    el.textContent = text; el.className = ok ? "ok" : "error";
  }

  // -- the conversation: LAN address, quick phrases, survey results ---------------------------
  async function loadConversation() {
    try {
      const [address, phrases, survey] = await Promise.all([
        api("GET", "/admin/api/address"), api("GET", "/admin/api/phrases"), api("GET", "/admin/api/survey"),
      ]);
      $("address-note").textContent = !address.lan
        ? "いまはこのパソコンだけで表示しています（タブレットに出すには web.host: 0.0.0.0 に設定）。"
        : address.url ? `タブレットは ${address.url} を開きます（QR コードもこのアドレスです）。` : "ネットワークのアドレスが見つかりません。";
      $("addresses").replaceChildren(...address.addresses.map((a, i) => {
        const label = document.createElement("label"); label.className = "check";
        const radio = document.createElement("input");
        radio.type = "radio"; radio.name = "address"; radio.value = a.address;
        radio.checked = address.chosen ? a.address === address.chosen : i === 0;
        label.append(radio, document.createTextNode(` ${a.address}${a.interface ? `（${a.interface}）` : ""}`));
        return label;
      }));
      $("address-form").hidden = address.addresses.length < 2;
      $("phrases").value = phrases.phrases.join("\n");
      $("survey-total").textContent = survey.answers
        ? `回答 ${survey.answers} 件、平均 ${survey.average.toFixed(2)} 点` : "まだ回答がありません。";
      const row = (...cells) => { const tr = document.createElement("tr"); tr.append(...cells.map(cell)); return tr; };
      $("survey-days").replaceChildren(...survey.by_day.map((d) => row(d.day, d.counter || "—", String(d.answers), d.average.toFixed(2))));
      $("survey-counters").replaceChildren(...survey.by_counter.map((c) => row(c.counter || "—", String(c.answers), c.average.toFixed(2))));
    } catch (e) { message("address-message", e.message, false); }
  }

  function bindConversation() {
    $("address-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const chosen = document.querySelector("input[name=address]:checked");
      try {
        await api("PUT", "/admin/api/address", { address: chosen ? chosen.value : null });
        message("address-message", "保存しました。QR コードと表示するアドレスに使います（再起動後の表示にも使います）。", true);
        loadConversation();
      } catch (err) { message("address-message", err.message, false); }
    });
    $("phrases-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const r = await api("PUT", "/admin/api/phrases", { phrases: $("phrases").value.split("\n") });
        $("phrases").value = r.phrases.join("\n");
        message("phrases-message", `定型文 ${r.phrases.length} 個を保存しました。`, true);
      } catch (err) { message("phrases-message", err.message, false); }
    });
  }

  async function enter() {
    show("app");
    await Promise.all([loadWords(), loadStatus(), loadConversation()]);
  }

  function bind() {
    $("login-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const data = await api("POST", "/admin/api/login", { password: $("password").value });
        csrf = data.csrf; $("password").value = ""; $("login-error").textContent = "";
        enter();
      } catch (err) { $("login-error").textContent = err.message; show("login"); }
    });
    $("logout").addEventListener("click", async () => { await api("POST", "/admin/api/logout").catch(() => {}); csrf = null; show("login"); });
    $("word-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const editing = $("editing").value;
      try {
        const result = editing
          ? await api("PUT", "/admin/api/words/" + encodeURIComponent(editing), formValues())
          : await api("POST", "/admin/api/words", formValues());
        const done = { added: "登録しました", updated: "更新しました", unchanged: "変更はありません" }[result.status] || "保存しました";
        const warnings = (result.warnings || []).join(" ");
        message("form-message", `「${result.entry.surface}」を${done}。字幕にすぐ反映されます。${warnings}`, !warnings);
        resetForm();
        loadWords();
      } catch (err) { message("form-message", err.message, false); }
    });
    $("cancel-edit").addEventListener("click", resetForm);
    let timer = null;
    $("search").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(loadWords, 200); });
    $("import").addEventListener("change", async (e) => {
      const file = e.target.files[0];
      if (!file) return;
      $("import-problems").replaceChildren();
      try {
        const r = await api("POST", "/admin/api/import", file, { "Content-Type": "text/csv", "X-Filename": file.name });
        message("import-message", `${file.name}: ${r.added} 語を追加、${r.updated} 語を更新、${r.unchanged} 語は変更なし`, true);
        loadWords();
      } catch (err) {
        message("import-message", err.message, false);
        const problems = (err.data && err.data.problems) || [];
        $("import-problems").replaceChildren(...problems.map((p) => Object.assign(document.createElement("li"), { textContent: p })));
      }
      e.target.value = "";
    });
    $("picture-file").addEventListener("change", async (e) => {
      const file = e.target.files[0];
      if (!file) return;
      try {  // the name travels URL-encoded (a header holds Latin-1 only); the server checks the content
        const r = await api("POST", "/admin/api/pictures", file, { "Content-Type": "application/octet-stream", "X-Filename": encodeURIComponent(file.name) });
        $("picture").value = r.name;
        message("form-message", `絵「${r.name}」を保存しました。登録するとこの単語で表示されます。`, true);
      } catch (err) { message("form-message", err.message, false); }
      e.target.value = "";
    });
    setInterval(() => { if (!$("app").hidden) loadStatus(); }, 3000);
  }

  async function start() {
    bind();
    bindConversation();
    const s = await fetch("/admin/api/session", { credentials: "same-origin" }).then((r) => r.json());
    if (!s.configured) return show("locked");
    if (!s.logged_in) return show("login");
    csrf = s.csrf;
    enter();
  }

  start();
})();
