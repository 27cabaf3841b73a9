// Progressive enhancement for the staff challenge form (the form works without it): keeps the total
// of the criteria weights up to date while typing. The server checks the total again on save.
(function () {
  "use strict";
  var WEIGHT = 'input[name^="criteria-"][name$="-weight"]';

  function total() {
    var sum = 0;
    document.querySelectorAll(WEIGHT).forEach(function (input) {
      var text = (input.value || "").normalize("NFKC").replace(/[\s,%]/g, "");
      if (/^-?\d+$/.test(text)) { sum += parseInt(text, 10); }
    });
    return sum;
  }

  function update() {
    var output = document.getElementById("criteria-total-value");
    if (output) { output.textContent = String(total()); }
  }

  document.addEventListener("input", function (event) {
    if (event.target && event.target.matches && event.target.matches(WEIGHT)) { update(); }
  });
  document.addEventListener("DOMContentLoaded", update);
})();
