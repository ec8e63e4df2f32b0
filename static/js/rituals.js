// Attendance form: "Mark everyone" buttons set every person's radio at once, so a manager logging a
// 40-person team day changes only the few who were not there. Without JavaScript the buttons stay
// hidden and each row is set by hand; the server reads the radios either way.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector(".attendance-form");
  if (!form) return;
  const bar = form.querySelector("[data-attendance-all]");
  if (!bar) return;
  bar.querySelectorAll("[data-mark-all]").forEach((button) => {
    button.addEventListener("click", () => {
      const value = button.dataset.markAll;
      form.querySelectorAll(`input[type="radio"][name^="presence-"][value="${value}"]`).forEach((radio) => {
        radio.checked = true;
      });
    });
  });
});
