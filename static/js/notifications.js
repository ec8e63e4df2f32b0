// The unread count next to "Notifications": fetched after the page loads, so no page pays a query for it.
(function () {
  "use strict";
  var link = document.querySelector("[data-unread-url]");
  if (!link || !window.fetch) { return; }
  var badge = link.querySelector("[data-unread-badge]");
  fetch(link.getAttribute("data-unread-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data || !badge || !data.unread) { return; }
      badge.textContent = data.unread > 99 ? "99+" : String(data.unread);
      badge.hidden = false;
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = " unread";
      badge.appendChild(label);
    })
    .catch(function () { /* the badge is a convenience: the list itself is one click away */ });
})();
