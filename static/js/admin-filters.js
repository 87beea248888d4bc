// Flask-Admin's filter rows (bs4_filters.js) give their operation and value fields no label;
// each is named after its filter, on the rows the page starts with and on rows added later.
(function () {
  "use strict";
  var operation = document.currentScript.dataset.operation;

  function label(row) {
    var link = row.querySelector(".remove-filter");
    if (!link) return;
    var name = link.textContent.replace("\u00d7", "").trim();
    row.querySelectorAll("select.filter-op").forEach(function (field) {
      field.setAttribute("aria-label", name + ": " + operation);
    });
    row.querySelectorAll(".filter-val").forEach(function (field) {
      field.setAttribute("aria-label", name);
    });
  }

  document.querySelectorAll("table.filters").forEach(function (table) {
    var labelAll = function () { Array.prototype.forEach.call(table.rows, label); };
    labelAll();
    new MutationObserver(labelAll).observe(table, { childList: true, subtree: true });
  });
})();
