// Type-ahead suggestions for fields with a <datalist>: a short list fetched as the user types, so
// no page ever lists every employee or every team. Suggestions are a convenience: without
// JavaScript (or when a fetch fails) the field is plain text and the server checks what was typed.
function suggestAsTyped(input, { url, minLength, delay, options }) {
  const list = document.getElementById(input.getAttribute("list"));
  if (!list) return;
  // Options the page itself put in the list (e.g. "No team") stay after the fetched ones.
  const fixed = Array.from(list.options).map((option) => option.cloneNode(true));
  let timer = null;
  let lastQuery = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = input.value.trim();
      if (query.length < minLength || query === lastQuery) return;
      lastQuery = query;
      const address = new URL(url, window.location.origin);
      address.searchParams.set("q", query);
      try {
        const response = await fetch(address, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return;
        const body = await response.json();
        list.replaceChildren(...options(body), ...fixed.map((option) => option.cloneNode(true)));
      } catch (error) {
        // Typing the full value still works.
      }
    }, delay);
  });
}

function option(value, text) {
  const element = document.createElement("option");
  element.value = value;
  if (text) element.textContent = text;
  return element;
}

document.addEventListener("DOMContentLoaded", () => {
  // Email fields marked data-lookup: matching people.
  document.querySelectorAll("input[data-lookup][list]").forEach((input) => {
    suggestAsTyped(input, {
      url: input.dataset.lookup, minLength: 2, delay: 200,
      options: (body) => body.people.map((person) =>
        option(person.email, person.title ? `${person.name} (${person.title})` : person.name)),
    });
  });
  // The people list's team field: matching teams (only those the person may see); Enter or the
  // Filter button applies it.
  document.querySelectorAll("input[data-team-lookup][list]").forEach((input) => {
    suggestAsTyped(input, {
      url: input.dataset.teamLookup, minLength: 1, delay: 150,
      options: (body) => body.teams.map((name) => option(name)),
    });
  });
});
