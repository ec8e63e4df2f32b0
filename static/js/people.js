// Suggestions for email fields marked data-lookup: a short list of matching people, fetched as
// the user types, so no page ever lists every employee. Without JavaScript the field is a plain
// email input and the server checks the address.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-lookup][list]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    let timer = null;
    let lastQuery = "";
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const query = input.value.trim();
        if (query.length < 2 || query === lastQuery) return;
        lastQuery = query;
        const url = new URL(input.dataset.lookup, window.location.origin);
        url.searchParams.set("q", query);
        try {
          const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
          if (!response.ok) return;
          const body = await response.json();
          list.replaceChildren(...body.people.map((person) => {
            const option = document.createElement("option");
            option.value = person.email;
            option.textContent = person.title ? `${person.name} (${person.title})` : person.name;
            return option;
          }));
        } catch (error) {
          // Suggestions are a convenience; typing the full address still works.
        }
      }, 200);
    });
  });
});

// The people list's team field: names of matching teams (only those the person may see), fetched
// as the user types; Enter or the Filter button applies it. Without JavaScript the field is plain
// text and the server matches the name typed.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-team-lookup][list]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    const fixed = Array.from(list.options).map((option) => option.cloneNode(true));
    let timer = null;
    let lastQuery = "";
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const query = input.value.trim();
        if (query.length < 1 || query === lastQuery) return;
        lastQuery = query;
        const url = new URL(input.dataset.teamLookup, window.location.origin);
        url.searchParams.set("q", query);
        try {
          const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
          if (!response.ok) return;
          const body = await response.json();
          list.replaceChildren(...body.teams.map((name) => {
            const option = document.createElement("option");
            option.value = name;
            return option;
          }), ...fixed.map((option) => option.cloneNode(true)));
        } catch (error) {
          // Suggestions are a convenience; typing the name and pressing Enter still filters.
        }
      }, 150);
    });
  });
});
