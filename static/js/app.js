// What the pages would otherwise write inline, which the Content-Security-Policy (script-src 'self') refuses:
// - <select data-autosubmit> submits its form when the choice changes (language, program, round);
// - <button data-confirm="question"> asks first and does nothing unless confirmed;
// - <a data-print> prints the page.
"use strict";

document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
    select.form.submit();
  }
});

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest("[data-confirm], [data-print]") : null;
  if (!target) {
    return;
  }
  if (target.hasAttribute("data-print")) {
    event.preventDefault();
    window.print();
  } else if (!window.confirm(target.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
