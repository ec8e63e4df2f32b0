// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to an error summary so keyboard and screen-reader users hear what to fix.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  // Buttons that need confirmation carry data-confirm (inline handlers are blocked by our CSP).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // A table too wide for its box scrolls inside it: make the box reachable by keyboard (arrow keys
  // scroll it) and name it after its table, so no one is stuck with half a table (WCAG 2.1.1).
  const regions = document.querySelectorAll(".table-wrap");
  const label = (box) => {
    const caption = box.querySelector("caption");
    return caption ? caption.textContent.trim() : "Table";
  };
  const reachable = () => regions.forEach((box) => {
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.dataset.scrollRegion = "";
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", `${label(box)} (scrolls sideways)`);
    } else if (!scrolls && "scrollRegion" in box.dataset) {
      delete box.dataset.scrollRegion;
      ["tabindex", "role", "aria-label"].forEach((name) => box.removeAttribute(name));
    }
  });
  reachable();
  window.addEventListener("resize", reachable);
  // Filter selects submit their form on change for mouse users; the button stays for keyboards.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
});
