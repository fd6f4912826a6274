// The clerk's screen, the resident's take-away: facts of a final bold in a frame, a picture shown
// on the tablets on demand, lines left out of the phone page, and the QR code of the phone page.
"use strict";

const ClerkTakeaway = (() => {
  const $ = (id) => document.getElementById(id);
  const left = new Set();  // utterance ids left out of the phone page
  let api = null, say = null;

  // text with the facts ([start, end, kind], in code points) as <strong class="fact">; all text as text
  function fill(node, text, facts) {
    const chars = Array.from(text || "");
    const parts = [];
    let i = 0;
    for (const [s, e] of (facts || []).slice().sort((a, b) => a[0] - b[0])) {
      if (s < i) continue;
      if (s > i) parts.push(document.createTextNode(chars.slice(i, s).join("")));
      const strong = document.createElement("strong");
      strong.className = "fact";
      strong.textContent = chars.slice(s, e).join("");
      parts.push(strong);
      i = e;
    }
    if (i < chars.length) parts.push(document.createTextNode(chars.slice(i).join("")));
    node.replaceChildren(...parts);
  }

  function leaveOut(id) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "leave-out" + (left.has(id) ? " on" : "");
    button.textContent = left.has(id) ? "スマホに載せない ✓" : "スマホに載せない";
    button.dataset.id = String(id);
    button.addEventListener("click", async (e) => {
      e.stopPropagation();
      const removed = !left.has(id);
      try {
        await api("/admin/clerk/api/takeaway/line", { id, removed });
        if (removed) left.add(id); else left.delete(id);
        button.classList.toggle("on", removed);
        button.textContent = removed ? "スマホに載せない ✓" : "スマホに載せない";
      } catch (err) { say(err.message, false); }
    });
    return button;
  }

  async function issue(quiet) {
    try {
      const r = await api("/admin/clerk/api/takeaway/issue", {});
      say(`タブレットと字幕画面に QR コードを表示しました（${Math.round(r.expires_s / 60)}分で消えます）。`, true);
    } catch (err) { if (!quiet || err.status !== 409) say(err.message, false); }
  }

  async function bind(apiFunction, message) {
    api = apiFunction; say = message;
    $("takeaway").addEventListener("click", () => issue(false));
    try {
      const { words } = await api("/admin/clerk/api/pictures");
      if (!words.length) return;
      $("picture-word").replaceChildren(...words.map((w) => new Option(w.word, w.word)));
      $("pictures").hidden = false;
      $("show-picture").addEventListener("click", async () => {
        try { await api("/admin/clerk/api/picture", { word: $("picture-word").value }); say(`「${$("picture-word").value}」の絵をタブレットに表示しました。`, true); }
        catch (err) { say(err.message, false); }
      });
    } catch (err) { /* no dictionary: no pictures */ }
  }

  return { fill, leaveOut, issue, bind };
})();
