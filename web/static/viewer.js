// Tablet caption viewer: the caption window's board and layout (display/layout.py) on the
// server's caption messages, pushed over a WebSocket that reconnects and resumes by itself.
"use strict";

(() => {
  const JA = "ja";
  const NO_SPACE = new Set(["ja", "zh", "zh-cn", "zh-tw", "zh-hans", "zh-hant", "yue", "th", "lo", "my", "km"]);
  const PAUSE_S = 3.0, KEEP_PARAGRAPHS = 6, MAX_PARAGRAPH_UTTERANCES = 20;
  const STORE = "cc-viewer";
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------- board (display/layout.py CaptionBoard)
  // Lines arrive already reduced by the server (captioner/core/lines.py); this board groups them
  // into paragraphs as the caption window does. tests/test_web_board.py compares the two.
  class Board {
    constructor() { this.paragraphs = []; this.serial = 0; }
    clear() { this.paragraphs = []; }
    find(id) {
      for (const p of this.paragraphs) for (const u of p.utterances) if (u.id === id) return u;
      return null;
    }
    apply(m) {
      let u = this.find(m.id);
      const hasTr = Object.keys(m.tr || {}).length > 0;
      if (!u) {
        if (!m.text && !hasTr) return;
        u = { id: m.id, start: m.start, end: m.end, src: m.src || "clerk" };
        this.place(u);
      }
      Object.assign(u, {
        end: Math.max(u.end, m.end), text: m.text, committed: m.committed, final: m.final,
        tr: m.tr || {}, trf: new Set(m.trf || []), ruby: m.ruby || [], corr: !!m.corr, facts: m.facts || [],
      });
      if (u.final && !u.text && !hasTr) this.remove(u);
    }
    place(u) {
      let last = this.paragraphs[this.paragraphs.length - 1];
      const prev = last && last.utterances[last.utterances.length - 1];
      if (!last || !prev || u.start - prev.end >= PAUSE_S || last.utterances.length >= MAX_PARAGRAPH_UTTERANCES
          || u.src !== prev.src || u.src !== "clerk") {  // each reply is a paragraph of its own
        last = { serial: ++this.serial, utterances: [] };
        this.paragraphs.push(last);
        if (this.paragraphs.length > KEEP_PARAGRAPHS) this.paragraphs.splice(0, this.paragraphs.length - KEEP_PARAGRAPHS);
      }
      last.utterances.push(u);
    }
    remove(u) {
      for (const p of this.paragraphs) p.utterances = p.utterances.filter((x) => x !== u);
      this.paragraphs = this.paragraphs.filter((p) => p.utterances.length);
    }
    piece(u, channel) {
      if (channel === JA) return [u.text, u.committed, u.final];
      const piece = u.tr[channel] || "";
      const final = u.trf.has(channel) || (u.final && this.skipped(u, channel));
      return [final && !u.trf.has(channel) ? "" : piece, final ? piece : "", final];
    }
    skipped(u, channel) {
      let seen = false;
      for (const p of this.paragraphs) for (const o of p.utterances) {
        if (o === u) seen = true; else if (seen && o.trf.has(channel)) return true;
      }
      return false;
    }
    newest(channel) {
      for (let i = this.paragraphs.length - 1; i >= 0; i--) {
        const us = this.paragraphs[i].utterances;
        for (let j = us.length - 1; j >= 0; j--) if (this.piece(us[j], channel)[0]) return us[j];
      }
      return null;
    }
    // one channel of a paragraph, in code points: text, committed, newestFrom, complete, ruby
    paragraphText(p, channel) {
      const newest = this.newest(channel);
      let chars = [], committed = 0, open = false, newestFrom = null;
      const ruby = [], marks = [], facts = [];
      let lastPiece = null;
      for (const u of p.utterances) {
        const [pieceText, pieceCommitted, final] = this.piece(u, channel);
        const piece = Array.from(pieceText);
        if (!piece.length) {
          if (!final && !open) { committed = chars.length; open = true; }
          continue;
        }
        const sep = lastPiece ? separator(lastPiece, piece, channel) : "";
        if (u === newest) newestFrom = chars.length;
        if (!open) {
          const fixed = final ? piece : Array.from(pieceCommitted);
          committed = chars.length + (fixed.length ? sep.length + fixed.length : 0);
          open = !final;
        }
        const offset = chars.length + sep.length;
        if (channel === JA) for (const [s, e, r] of u.ruby) ruby.push([s + offset, e + offset, r]);
        if (channel === JA) for (const [s, e] of u.facts || []) facts.push([s + offset, e + offset]);
        if (u.src !== "clerk" || u.corr) marks.push([offset, offset + piece.length, u.src !== "clerk" ? "resident" : "corrected"]);
        chars = chars.concat(Array.from(sep), piece);
        lastPiece = piece;
      }
      return {
        chars, committed: Math.min(committed, chars.length), newestFrom: newestFrom == null ? chars.length : newestFrom,
        complete: !open, ruby, marks, facts,
      };
    }
  }

  function separator(before, after, channel) {
    const b = before[before.length - 1], a = after[0];
    if (!b || !a || a === " " || b === " ") return "";
    if (!NO_SPACE.has(channel.toLowerCase())) return " ";
    return LineBreak.isWord(b) && LineBreak.isWord(a) ? " " : "";
  }

  function styleAt(content, i) {
    if (i >= content.committed) return "partial";
    for (const [s, e, style] of content.marks || []) if (s <= i && i < e) return style;
    return i < content.newestFrom ? "older" : "current";
  }

  // a fact (amount, date, time, number, registered word) of a final: bold in a frame (web/marks.py)
  function factAt(content, i) {
    for (const [s, e] of content.facts || []) if (s <= i && i < e) return true;
    return false;
  }

  // ------------------------------------------------------------- layout (layout.py BlockLayout)
  class BlockLayout {
    constructor(width, channel, useRuby) {
      this.width = width; this.channel = channel; this.useRuby = useRuby; this.layouts = new Map();
    }
    rows(board, maxRows) {
      const rows = [];
      const alive = new Set(board.paragraphs.map((p) => p.serial));
      for (const serial of this.layouts.keys()) if (!alive.has(serial)) this.layouts.delete(serial);
      for (let k = board.paragraphs.length - 1; k >= 0 && rows.length < maxRows; k--) {
        const p = board.paragraphs[k];
        const content = board.paragraphText(p, this.channel);
        if (!content.chars.length) continue;
        let layout = this.layouts.get(p.serial);
        if (!layout) { layout = new LineBreak.ParagraphLayout(this.width); this.layouts.set(p.serial, layout); }
        const bases = this.useRuby ? content.ruby : [];
        const noBreak = new Set();
        for (const [s, e] of bases) for (let i = s + 1; i < e; i++) noBreak.add(i);
        const [lines, reserved] = layout.update(content.chars, content.committed, content.complete, noBreak);
        const made = lines.map(([a, b], i) => ({ content, a, b, bases, first: i === 0 }));
        while (made.length < reserved) made.push({ content: null, first: false });
        rows.unshift(...made);
      }
      return maxRows > 0 ? rows.slice(-maxRows) : [];
    }
  }

  function renderRow(row) {
    const div = document.createElement("div");
    div.className = "row" + (row.first ? " first" : "");
    if (!row.content) return div;
    const { content, a, bases } = row;
    let b = row.b;
    const chars = content.chars;
    while (b > a && chars[b - 1] === " ") b--;
    let i = a;
    while (i < b) {
      const base = bases.find(([s, e]) => s === i && e <= b);
      const style = styleAt(content, i);
      if (base) {
        const span = document.createElement("span");
        span.className = "rb s-" + style + (factAt(content, i) ? " fact" : "");
        span.textContent = chars.slice(base[0], base[1]).join("");
        const rt = document.createElement("span");
        rt.className = "rt";
        rt.textContent = base[2];
        span.appendChild(rt);
        div.appendChild(span);
        i = base[1];
        continue;
      }
      const fact = factAt(content, i);
      let j = i + 1;
      while (j < b && styleAt(content, j) === style && factAt(content, j) === fact && !bases.some(([s]) => s === j)) j++;
      const span = document.createElement("span");
      span.className = "s-" + style + (fact ? " fact" : "");
      span.textContent = chars.slice(i, j).join("");
      div.appendChild(span);
      i = j;
    }
    return div;
  }

  // -------------------------------------------------------------------------- conversation
  // Buttons and the reply box in the viewer's language; the survey when the clerk ends the
  // conversation (or it went idle). Everything typed is sent as JSON and shown as text.
  const WORDS = {
    ja: { again: "もう一度", slower: "ゆっくり", unclear: "わかりません", yes: "はい", no: "いいえ", reply: "ここに入力して送れます",
          send: "送る", sent: "送りました", failed: "送れませんでした", question: "本日の窓口の対応はいかがでしたか？",
          scores: ["とても不満", "不満", "ふつう", "満足", "とても満足"], comment: "ご意見（任意）", answer: "回答する",
          skip: "回答しない", thanks: "ご回答ありがとうございました。" },
    en: { again: "Again", slower: "Slower", unclear: "I don't understand", yes: "Yes", no: "No", reply: "Type a reply here",
          send: "Send", sent: "Sent", failed: "Could not send", question: "How satisfied were you with our service today?",
          scores: ["Very unsatisfied", "Unsatisfied", "Neutral", "Satisfied", "Very satisfied"], comment: "Comment (optional)",
          answer: "Submit", skip: "Skip", thanks: "Thank you for your answer." },
    vi: { again: "Nhắc lại", slower: "Chậm hơn", unclear: "Tôi không hiểu", yes: "Vâng", no: "Không", reply: "Nhập câu trả lời tại đây",
          send: "Gửi", sent: "Đã gửi", failed: "Không gửi được", question: "Bạn có hài lòng với dịch vụ hôm nay không?",
          scores: ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"], comment: "Ý kiến (không bắt buộc)",
          answer: "Gửi trả lời", skip: "Bỏ qua", thanks: "Cảm ơn bạn đã trả lời." },
    zh: { again: "再说一遍", slower: "慢一点", unclear: "我不明白", yes: "是", no: "不是", reply: "在这里输入回复",
          send: "发送", sent: "已发送", failed: "发送失败", question: "您对今天的窗口服务满意吗？",
          scores: ["非常不满意", "不满意", "一般", "满意", "非常满意"], comment: "意见（可选）", answer: "提交", skip: "跳过",
          thanks: "感谢您的回答。" },
    pt: { again: "De novo", slower: "Mais devagar", unclear: "Não entendi", yes: "Sim", no: "Não", reply: "Escreva sua resposta aqui",
          send: "Enviar", sent: "Enviado", failed: "Não foi possível enviar", question: "Ficou satisfeito(a) com o atendimento de hoje?",
          scores: ["Muito insatisfeito", "Insatisfeito", "Normal", "Satisfeito", "Muito satisfeito"], comment: "Comentário (opcional)",
          answer: "Responder", skip: "Pular", thanks: "Obrigado pela resposta." },
    ko: { again: "다시 한번", slower: "천천히", unclear: "모르겠어요", yes: "네", no: "아니요", reply: "여기에 답장을 입력하세요",
          send: "보내기", sent: "보냈습니다", failed: "보내지 못했습니다", question: "오늘 창구 서비스에 만족하셨습니까?",
          scores: ["매우 불만족", "불만족", "보통", "만족", "매우 만족"], comment: "의견 (선택)", answer: "답변하기", skip: "건너뛰기",
          thanks: "답변해 주셔서 감사합니다." },
    es: { again: "Otra vez", slower: "Más despacio", unclear: "No entiendo", yes: "Sí", no: "No", reply: "Escriba su respuesta aquí",
          send: "Enviar", sent: "Enviado", failed: "No se pudo enviar", question: "¿Quedó satisfecho con la atención de hoy?",
          scores: ["Muy insatisfecho", "Insatisfecho", "Normal", "Satisfecho", "Muy satisfecho"], comment: "Comentario (opcional)",
          answer: "Responder", skip: "Omitir", thanks: "Gracias por su respuesta." },
  };
  const BUTTON_KEYS = ["again", "slower", "unclear", "yes", "no"];

  const Conversation = {
    language: JA, conversation: null, score: null,
    words() { return WORDS[this.language] || WORDS[this.language.split("-")[0]] || WORDS.en; },
    async post(path, body) {
      const headers = { "Content-Type": "application/json" };
      if (state.key) headers["X-Viewer-Key"] = state.key;
      else if (state.pin) headers["X-Viewer-Pin"] = state.pin;
      const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || response.statusText);
      return data;
    },
    note(text, bad) {
      const el = $("reply-note");
      el.textContent = text; el.classList.toggle("bad", !!bad);
      clearTimeout(this.noteTimer);
      this.noteTimer = setTimeout(() => { el.textContent = ""; }, 3000);
    },
    translate(language) {
      this.language = language || JA;
      const w = this.words();
      const bar = $("buttons");
      if (bar.dataset.language !== this.language) {
        bar.dataset.language = this.language;
        bar.replaceChildren(...BUTTON_KEYS.map((key) => {
          const b = document.createElement("button");
          b.type = "button"; b.className = "answer b-" + key; b.dataset.button = key; b.textContent = w[key];
          b.addEventListener("click", () => this.press(key));
          return b;
        }));
      }
      $("reply").placeholder = w.reply;
      $("reply").setAttribute("aria-label", w.reply);
      $("reply-send").textContent = w.send;
      $("survey-question").textContent = w.question;
      $("survey-comment").placeholder = w.comment;
      $("survey-send").textContent = w.answer;
      $("survey-skip").textContent = w.skip;
      $("survey-thanks").textContent = w.thanks;
      $("scores").replaceChildren(...w.scores.map((label, i) => {
        const b = document.createElement("button");
        b.type = "button"; b.className = "score"; b.dataset.score = String(i + 1);
        b.setAttribute("aria-pressed", String(this.score === i + 1));
        const n = document.createElement("span"); n.className = "n"; n.textContent = String(i + 1);
        const t = document.createElement("span"); t.className = "t"; t.textContent = label;
        b.append(n, t);
        b.addEventListener("click", () => { this.score = i + 1; this.translate(this.language); $("survey-send").disabled = false; });
        return b;
      }));
    },
    async press(key) {
      try { await this.post("/api/button", { button: key, language: this.language }); this.note(this.words().sent); }
      catch (e) { this.note(this.words().failed + ": " + e.message, true); }
    },
    async send(event) {
      event.preventDefault();
      const input = $("reply"), text = input.value.trim();
      if (!text) return;
      try {
        await this.post("/api/reply", { text, language: this.language });
        input.value = ""; this.note(this.words().sent);
      } catch (e) { this.note(this.words().failed + ": " + e.message, true); }
    },
    message(m) {
      if (m.state === "ended" && m.survey) this.openSurvey(m.conversation);
    },
    openSurvey(conversation) {
      this.conversation = conversation; this.score = null;
      $("survey-comment").value = "";
      $("survey-form").hidden = false; $("survey-thanks").hidden = true; $("survey-error").textContent = "";
      $("survey-send").disabled = true;
      this.translate(this.language);
      $("survey").hidden = false;
    },
    async answer() {
      if (!this.score) return;
      try {
        await this.post("/api/survey", {
          conversation: this.conversation, score: this.score, comment: $("survey-comment").value, language: this.language,
        });
        $("survey-form").hidden = true; $("survey-thanks").hidden = false;
        setTimeout(() => { $("survey").hidden = true; }, 4000);
      } catch (e) { $("survey-error").textContent = this.words().failed + ": " + e.message; }
    },
    bind() {
      $("reply-form").addEventListener("submit", (e) => this.send(e));
      $("survey-send").addEventListener("click", () => this.answer());
      $("survey-skip").addEventListener("click", () => { $("survey").hidden = true; });
      this.translate(settings.language);
    },
  };

  // ------------------------------------------------------------------------------ settings
  const defaults = {
    size: Math.round(Math.max(24, Math.min(64, window.innerWidth / 18))), lines: 4, furigana: false, language: JA,
    theme: "dark", replies: true,
  };
  let settings = { ...defaults };
  try { settings = { ...defaults, ...JSON.parse(localStorage.getItem(STORE) || "{}") }; } catch (e) { /* keep defaults */ }
  const save = () => localStorage.setItem(STORE, JSON.stringify(settings));

  // ----------------------------------------------------------- beside the captions: a picture or the QR
  // One at a time, beside the captions (never over them: the caption area narrows while it shows).
  const PICTURE_S = 12;
  const Aside = {
    shownFor: new Set(), timer: null, qr: false,
    picture(pic, id) {
      if (this.qr || (id !== null && this.shownFor.has(id))) return;
      if (id !== null) this.shownFor.add(id);
      const box = $("aside"), img = $("aside-img"), card = $("aside-card");
      img.hidden = !pic.src; card.hidden = !pic.card;
      if (pic.src) { img.src = pic.src; img.alt = pic.word; }
      card.textContent = pic.card || "";
      $("aside-word").textContent = pic.word;
      $("aside-note").textContent = "";
      box.className = "picture";
      this.open();
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.close(), PICTURE_S * 1000);
    },
    takeaway(m) {
      if (!m.qr) { if (this.qr) { this.qr = false; this.close(); } return; }
      clearTimeout(this.timer);
      this.qr = true;
      const box = $("aside"), img = $("aside-img");
      img.hidden = false; $("aside-card").hidden = true;
      img.src = m.qr; img.alt = "QR";
      $("aside-word").textContent = "この会話をスマートフォンへ";
      const minutes = Math.round(m.expires_s / 60);
      $("aside-note").textContent = `カメラで読み取ると、今の会話の記録を持ち帰れます（${minutes}分で消えます）。`
        + ` Scan with your phone's camera to keep this conversation (erased in ${minutes} min).`;
      box.className = "qr";
      this.open();
    },
    open() { $("aside").hidden = false; document.body.classList.add("has-aside"); layoutKey = ""; render(); },
    close() { $("aside").hidden = true; document.body.classList.remove("has-aside"); layoutKey = ""; render(); },
  };

  // -------------------------------------------------------------------------- the viewer
  const board = new Board();
  const state = { epoch: "", lastSeq: 0, seqs: [], live: false, languages: [], pin: null, key: null, tablet: null, retry: 0, socket: null };
  let layout = null, layoutKey = "";
  const captions = $("captions");

  function cellsPerLine() {
    const px = settings.size;
    return Math.max(4, Math.floor(captions.clientWidth / px) - 1);  // one cell kept for hanging 、。
  }

  function render() {
    if (!LineBreak.ready()) return;
    const channel = state.languages.includes(settings.language) ? settings.language : JA;
    const width = cellsPerLine();
    const useRuby = settings.furigana && channel === JA;
    const key = [width, channel, useRuby].join("|");
    if (key !== layoutKey) { layout = new BlockLayout(width, channel, useRuby); layoutKey = key; }
    const rows = layout.rows(board, settings.lines);
    captions.replaceChildren(...rows.map(renderRow));
    captions.classList.toggle("furigana", useRuby);
    $("placeholder").hidden = rows.some((r) => r.content);
  }

  function applySettings() {
    document.body.className = settings.theme === "light" ? "theme-light" : "theme-dark";
    document.documentElement.style.setProperty("--size", settings.size + "px");
    $("size").value = settings.size; $("size-value").textContent = settings.size + "px";
    $("lines").value = settings.lines; $("lines-value").textContent = settings.lines + " 行";
    $("furigana").checked = !!settings.furigana;
    $("replies").checked = settings.replies !== false;
    $("conversation").hidden = settings.replies === false;
    document.documentElement.style.setProperty("--bar", settings.replies === false ? "0px" : "170px");
    for (const radio of document.querySelectorAll("input[name=theme]")) radio.checked = radio.value === settings.theme;
    const select = $("language");
    const names = { ja: "日本語", en: "English", zh: "中文", ko: "한국어", vi: "Tiếng Việt", pt: "Português", es: "Español", tl: "Tagalog", ne: "नेपाली", id: "Bahasa Indonesia", th: "ไทย", my: "မြန်မာ" };
    const wanted = [JA, ...state.languages];
    if (Array.from(select.options).map((o) => o.value).join() !== wanted.join()) {
      select.replaceChildren(...wanted.map((code) => new Option(names[code] || code, code)));
    }
    select.value = wanted.includes(settings.language) ? settings.language : JA;
    $("language-row").hidden = state.languages.length === 0;
    Conversation.translate(select.value);
    render();
  }

  function bindSettings() {
    const update = (change) => { Object.assign(settings, change); save(); applySettings(); };
    $("size").addEventListener("input", (e) => update({ size: Number(e.target.value) }));
    $("lines").addEventListener("input", (e) => update({ lines: Number(e.target.value) }));
    $("furigana").addEventListener("change", (e) => update({ furigana: e.target.checked }));
    $("replies").addEventListener("change", (e) => update({ replies: e.target.checked }));
    $("language").addEventListener("change", (e) => update({ language: e.target.value }));
    for (const radio of document.querySelectorAll("input[name=theme]")) {
      radio.addEventListener("change", (e) => update({ theme: e.target.value }));
    }
    const panel = $("settings"), opener = $("open-settings");
    opener.addEventListener("click", () => { panel.hidden = false; opener.setAttribute("aria-expanded", "true"); });
    $("close-settings").addEventListener("click", () => { panel.hidden = true; opener.setAttribute("aria-expanded", "false"); });
    $("show-qr").addEventListener("click", () => {
      const img = $("qr");
      img.src = "/qr.svg" + (state.key ? "?key=" + encodeURIComponent(state.key) : state.pin ? "?pin=" + encodeURIComponent(state.pin) : "");
      img.hidden = false;
    });
    $("pin-form").querySelector("form").addEventListener("submit", (e) => {
      e.preventDefault();
      state.pin = $("pin").value.trim();  // kept in memory only: the server answers with the key
      state.key = null;
      $("pin-form").hidden = true;
      connect();
    });
    let resizeTimer = null;
    window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(render, 100); });
  }

  function setStatus(text, bad) {
    const el = $("status");
    el.textContent = text;
    el.classList.toggle("bad", !!bad);
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams({ since: String(state.lastSeq), epoch: state.epoch });
    if (state.key) params.set("key", state.key);
    else if (state.pin) params.set("pin", state.pin);
    const socket = new WebSocket(`${proto}//${location.host}/ws?${params}`);
    state.socket = socket;
    socket.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.t === "hello") {
        if (m.tablet) {  // this tablet's token from the server: stored instead of the PIN or the QR code's key
          state.key = m.tablet.key; state.pin = null; state.tablet = m.tablet;
          localStorage.setItem(STORE + "-key", m.tablet.key);
        }
        if (m.reset) { board.clear(); state.lastSeq = 0; state.seqs = []; layoutKey = ""; }
        state.epoch = m.epoch;
        document.getElementById("about").textContent = m.about || "";
        state.languages = Array.from(new Set([...state.languages, ...(m.languages || [])]));
        state.retry = 0;
        applySettings();
      } else if (m.t === "cap") {
        if (m.seq <= state.lastSeq) return;  // already shown (never happens with since=; kept as a guard)
        state.lastSeq = m.seq;
        state.seqs.push(m.seq);
        if (state.seqs.length > 5000) state.seqs.splice(0, 1000);
        for (const code of m.u.src === "resident" ? [] : Object.keys(m.u.tr || {})) {
          if (!state.languages.includes(code)) { state.languages.push(code); applySettings(); }
        }
        board.apply(m.u);
        if (m.u.final && m.u.pic && state.live) Aside.picture(m.u.pic, m.u.id);
        render();
      } else if (m.t === "pic") {
        Aside.picture(m.pic, null);
      } else if (m.t === "takeaway") {
        Aside.takeaway(m);
      } else if (m.t === "conv") {
        Conversation.message(m);
      } else if (m.t === "live") {
        state.live = true;
        setStatus("");
      }
    };
    socket.onclose = (e) => {
      state.live = false;
      if (state.socket !== socket) return;
      if (e.code === 4429) {  // too many wrong PINs from this tablet: wait, keep what it has
        setStatus("PIN の誤りが続いたため、しばらく待っています…", true);
        setTimeout(connect, 30000);
        return;
      }
      if (e.code === 4410 || e.code === 4408) {  // web/tablets.py: this phone's conversation ended, or the clerk dropped it
        localStorage.removeItem(STORE + "-key");
        if (e.code === 4408) state.key = null;  // an ended phone keeps its token in memory for that conversation's survey
        setStatus(e.code === 4410 ? "会話が終わりました。次は窓口の QR コードを読み取ってください" : "窓口で接続が切られました", true);
        return;
      }
      if (e.code === 4401) {
        localStorage.removeItem(STORE + "-key");
        $("pin-error").textContent = state.pin ? "PIN が違います。" : state.key ? "この端末の鍵は使えなくなりました。窓口の QR コードを読み取るか、PIN を入力してください。" : "";
        state.pin = null; state.key = null;
        $("pin-form").hidden = false;
        $("pin").focus();
        setStatus("PIN が必要です", true);
        return;
      }
      const delay = Math.min(5000, 500 * 2 ** state.retry++);
      setStatus("接続が切れました。再接続しています…", true);
      setTimeout(connect, delay);
    };
  }

  async function start() {
    const url = new URL(location.href);
    localStorage.removeItem(STORE + "-pin");  // older versions stored the PIN itself
    state.key = url.searchParams.get("key") || localStorage.getItem(STORE + "-key");
    state.pin = url.searchParams.get("pin");  // an old QR code: the server answers with the key
    if (url.searchParams.has("key")) localStorage.setItem(STORE + "-key", state.key);
    if (url.searchParams.has("pin") || url.searchParams.has("key")) {
      url.searchParams.delete("pin");
      url.searchParams.delete("key");
      history.replaceState(null, "", url.pathname + url.search);  // keep the key out of the address bar
    }
    if (state.pin) state.key = null;
    bindSettings();
    const [rules, info] = await Promise.all([
      fetch("/rules.json").then((r) => r.json()),
      fetch("/info.json").then((r) => r.json()).catch(() => ({})),
    ]);
    LineBreak.setRules(rules);
    state.languages = info.languages || [];
    Conversation.bind();
    applySettings();
    connect();
  }

  window.__viewer = { board, state, settings, render, Board, BlockLayout, Conversation, Aside };
  start();
})();
