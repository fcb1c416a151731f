// Dashboard: every panel loads its data by XHR (served through Logi); a failed panel shows an error in place.
(function () {
  "use strict";
  function render(panel, name, data) {
    var body = panel.querySelector(".panel-body");
    body.textContent = "";
    if (name === "RiskHeader") {
      var notes = document.createElement("div");
      notes.className = "sticky-notes";
      data.Notes.forEach(function (note) {
        var div = document.createElement("div");
        div.className = "sticky-note";
        div.textContent = note.Label + ": " + note.Count;
        notes.appendChild(div);
      });
      body.appendChild(notes);
      return;
    }
    var list = document.createElement("ul");
    data.Rows.forEach(function (row) {
      var item = document.createElement("li");
      item.textContent = row.Label + " — " + row.Count;
      list.appendChild(item);
    });
    body.appendChild(list);
    if (data.Chart) {
      var chart = document.createElement("img");
      chart.alt = name + " chart";
      chart.src = data.Chart;
      body.appendChild(chart);
    }
  }
  document.querySelectorAll(".dashboard-panel[data-panel]").forEach(function (panel) {
    var name = panel.getAttribute("data-panel");
    fetch("/KeyfactorPortal/Dashboard/Panel/" + name, { credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" } })
      .then(function (answer) {
        if (answer.ok) { return answer.json(); }
        // The server's error page is shown in the panel, as the portal's own error handler does.
        return answer.text().then(function (page) { throw { status: answer.status, page: page }; });
      })
      .then(function (data) { render(panel, name, data); panel.classList.add("loaded"); })
      .catch(function (failure) {
        var body = panel.querySelector(".panel-body");
        body.innerHTML = '<span class="panel-error">An error occurred while loading this panel.</span>';
        if (failure && failure.page) {
          var detail = document.createElement("div");
          detail.className = "panel-error-detail";
          detail.innerHTML = new DOMParser().parseFromString(failure.page, "text/html").body.innerHTML;
          body.appendChild(detail);
        }
        panel.classList.add("failed");
      });
  });
})();
