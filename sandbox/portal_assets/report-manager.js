// Report Manager: the grid lists the reports from the Keyfactor API; Run Report asks for the parameters,
// Generate shows the Logi output in the open window.
(function () {
  "use strict";
  var grid = document.getElementById("reportGrid");
  var body = grid.querySelector(".k-grid-content tbody");
  var runButton = document.getElementById("runReport");
  var dialog = document.getElementById("runReportDialog");
  var viewer = document.getElementById("reportViewer");
  var logi = grid.getAttribute("data-logi");
  var selected = null;

  fetch("/KeyfactorAPI/Reports?query.pageReturned=1&query.returnLimit=100&query.sortField=DisplayName",
        { credentials: "same-origin", headers: { "x-keyfactor-requested-with": "XMLHttpRequest", "Accept": "application/json" } })
    .then(function (answer) {
      if (!answer.ok) { throw new Error("GET /KeyfactorAPI/Reports answered " + answer.status); }
      return answer.json();
    })
    .then(function (reports) {
      reports.forEach(function (report) {
        var row = document.createElement("tr");
        row.setAttribute("role", "row");
        row.setAttribute("data-report-id", report.Id);
        [report.DisplayName, report.Description, report.Categories].forEach(function (value) {
          var cell = document.createElement("td");
          cell.textContent = value;
          row.appendChild(cell);
        });
        row.addEventListener("click", function () {
          body.querySelectorAll("tr").forEach(function (other) { other.classList.remove("k-state-selected"); });
          row.classList.add("k-state-selected");
          selected = report;
          runButton.disabled = false;
        });
        body.appendChild(row);
      });
      grid.querySelector(".k-loading").remove();
    });

  runButton.addEventListener("click", function () {
    if (!selected) { return; }
    dialog.hidden = false;
    dialog.querySelector(".report-name").textContent = selected.DisplayName;
  });

  document.getElementById("generateReport").addEventListener("click", function () {
    var collection = document.getElementById("reportCollection").value;
    var date = document.getElementById("reportDate").value;
    viewer.hidden = false;
    viewer.src = logi + "/rdPage.aspx?rdReport=" + encodeURIComponent(selected.ReportPath) +
      "&CollectionId=" + encodeURIComponent(collection) + "&EvaluationDate=" + encodeURIComponent(date);
  });
})();
