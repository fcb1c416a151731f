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
        if (!answer.ok) { throw new Error("status " + answer.status); }
        return answer.json();
      })
      .then(function (data) { render(panel, name, data); panel.classList.add("loaded"); })
      .catch(function () {
        panel.querySelector(".panel-body").innerHTML = '<span class="panel-error">An error occurred while loading this panel.</span>';
        panel.classList.add("failed");
      });
  });
})();
