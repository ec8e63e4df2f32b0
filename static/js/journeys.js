// Journey editor enhancements; the editor works without them (the preview is also drawn on save).
document.addEventListener("DOMContentLoaded", () => {
  const editor = document.querySelector("form.journey-editor[data-preview-url]");
  if (!editor) return;
  const previewUrl = editor.dataset.previewUrl;
  const watched = ["anchor", "offset", "offset_unit", "rrule", "follows_cadence", "series_length"];

  const fieldOf = (row, name) => row.querySelector(`[name$="-${name}"]`);

  // A key from the title, for rows whose key is still empty: "Welcome call" -> "welcome-call".
  const slug = (text) => text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64);

  const render = (box, data) => {
    box.replaceChildren();
    if (!data) return;
    const p = document.createElement("p");
    if (data.error) {
      p.className = "field__error";
      p.textContent = data.error;
    } else {
      const strong = document.createElement("strong");
      strong.textContent = `${data.description}.`;
      p.append(strong, ` For someone whose anchor date is today: ${(data.labels || data.dates).join(", ")}${data.dates.length >= 5 ? " …" : ""}`);
    }
    box.append(p);
  };

  editor.querySelectorAll("[data-row]").forEach((row) => {
    const box = row.querySelector("[data-preview]");
    let timer = null;
    const refresh = () => {
      const rule = fieldOf(row, "rrule");
      const cadence = fieldOf(row, "follows_cadence");
      const recurring = (rule && rule.value.trim()) || (cadence && cadence.checked);
      if (!recurring) { render(box, null); return; }
      const params = new URLSearchParams();
      watched.forEach((name) => {
        const input = fieldOf(row, name);
        if (!input) return;
        params.set(name, input.type === "checkbox" ? (input.checked ? "y" : "") : input.value);
      });
      fetch(`${previewUrl}?${params}`, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => render(box, data))
        .catch(() => {});
    };
    watched.forEach((name) => {
      const input = fieldOf(row, name);
      if (!input) return;
      input.addEventListener(input.type === "checkbox" || input.tagName === "SELECT" ? "change" : "input", () => {
        clearTimeout(timer);
        timer = setTimeout(refresh, 300);
      });
    });
    const title = fieldOf(row, "title");
    const key = fieldOf(row, "key");
    if (title && key) {
      let suggested = !key.value;
      title.addEventListener("input", () => { if (suggested) key.value = slug(title.value); });
      key.addEventListener("input", () => { suggested = false; });
    }
  });
});
