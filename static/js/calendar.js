// Progressive enhancement for the test field calendars (they work fully without it): the day cells
// become one tab stop with a roving tabindex, and the arrow keys move between days (left/right one day,
// up/down one week in the month grid, one day in the week list; Home/End the first/last shown day).
// Tab from a day goes on into its entries' links as before.
(function () {
  "use strict";

  function setup(grid) {
    var cells = Array.prototype.slice.call(grid.querySelectorAll("[data-date]"));
    if (!cells.length) { return; }
    var rowStep = parseInt(grid.getAttribute("data-row-step") || "7", 10);
    var start = grid.querySelector('[aria-current="date"]') ||
      grid.querySelector("[data-date]:not(.calendar-day-outside)") || cells[0];
    cells.forEach(function (cell) { cell.setAttribute("tabindex", cell === start ? "0" : "-1"); });

    function move(from, to) {
      if (to < 0 || to >= cells.length) { return; }
      cells[from].setAttribute("tabindex", "-1");
      cells[to].setAttribute("tabindex", "0");
      cells[to].focus();
    }

    grid.addEventListener("keydown", function (event) {
      var index = cells.indexOf(event.target);
      if (index < 0 || event.altKey || event.ctrlKey || event.metaKey) { return; }
      var offsets = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -rowStep, ArrowDown: rowStep };
      if (event.key in offsets) {
        move(index, index + offsets[event.key]);
      } else if (event.key === "Home") {
        move(index, 0);
      } else if (event.key === "End") {
        move(index, cells.length - 1);
      } else {
        return;
      }
      event.preventDefault();
    });
    grid.addEventListener("focusin", function (event) {
      var index = cells.indexOf(event.target);
      if (index >= 0) {
        cells.forEach(function (cell, i) { cell.setAttribute("tabindex", i === index ? "0" : "-1"); });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-calendar-grid]").forEach(setup);
  });
})();
