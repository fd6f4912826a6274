// The resident's phone page: the print button and the furigana switch (no other script).
"use strict";

(() => {
  const print = document.getElementById("print");
  if (print) print.addEventListener("click", () => window.print());
  const ruby = document.getElementById("ruby");
  if (ruby) {
    ruby.addEventListener("click", () => {
      const on = document.body.classList.toggle("ruby-on");
      ruby.setAttribute("aria-pressed", String(on));
    });
  }
})();
