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
