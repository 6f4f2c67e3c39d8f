// The live operations page: every few seconds, its body is fetched again from the JSON endpoint and
// swapped in, without reloading the page (a static file: the production CSP allows no inline script).
(function () {
  "use strict";
  function start() {
    var body = document.getElementById("live-body");
    if (!body) {
      return;
    }
    var seconds = parseInt(body.dataset.seconds, 10) || 30;
    function refresh() {
      fetch(body.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (data && typeof data.html === "string") {
            body.innerHTML = data.html;
            body.dataset.refreshedAt = data.generated_at;
          }
        })
        .catch(function () {});
    }
    window.setInterval(refresh, seconds * 1000);
  }
  document.addEventListener("DOMContentLoaded", start);
})();
