// Certificate Search: the results grid is filled from the collection query, page by page.
(function () {
  "use strict";
  var grid = document.getElementById("certificateGrid");
  var cid = grid.getAttribute("data-cid");
  var body = grid.querySelector(".k-grid-content tbody");
  var info = grid.querySelector(".k-pager-info");
  var loading = grid.querySelector(".k-loading");
  fetch("/KeyfactorPortal/CertificateCollection/Query?cid=" + encodeURIComponent(cid) + "&page=1&pageSize=50",
        { credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" } })
    .then(function (answer) {
      if (!answer.ok) { throw new Error("CertificateCollection/Query answered " + answer.status); }
      return answer.text();
    })
    .then(function (text) {
      var result = JSON.parse(text);
      result.Certificates.forEach(function (cert) {
        var row = document.createElement("tr");
        row.className = "k-master-row";
        row.setAttribute("role", "row");
        [cert.IssuedCN, cert.IssuerDN, cert.NotAfter.substring(0, 10), cert.TemplateDisplayName, cert.Status]
          .forEach(function (value) {
            var cell = document.createElement("td");
            cell.textContent = value;
            row.appendChild(cell);
          });
        body.appendChild(row);
      });
      loading.remove();
      info.textContent = "1 - " + result.Certificates.length + " of " + result.Total + " items";
    });
})();
