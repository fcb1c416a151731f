// Home page: the summary tiles are filled by script, as in the single-page portal.
(function () {
  "use strict";
  fetch("/KeyfactorPortal/Home/Summary", { credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" } })
    .then(function (answer) {
      if (!answer.ok) { throw new Error("Home/Summary answered " + answer.status); }
      return answer.json();
    })
    .then(function (summary) {
      document.getElementById("welcome-user").textContent = summary.User.DisplayName;
      document.getElementById("product-version").textContent = summary.Version;
      var tiles = document.getElementById("summary-tiles");
      summary.Tiles.forEach(function (tile) {
        var div = document.createElement(tile.Url ? "a" : "div");
        if (tile.Url) { div.href = tile.Url; }
        div.className = "tile";
        div.innerHTML = '<div class="count"></div><div class="label"></div>';
        div.querySelector(".count").textContent = tile.Count;
        div.querySelector(".label").textContent = tile.Label;
        tiles.appendChild(div);
      });
      document.body.setAttribute("data-loaded", "true");
    });
})();
