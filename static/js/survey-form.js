// Progressive enhancement of survey forms (they work without it): a conditional section (data-show-if, the
// id of the choice it needs) is hidden until that choice is picked, and its inputs are disabled while
// hidden so that nothing of it is sent. Without JavaScript every section shows, says which choice it
// needs, and the server leaves its answers out when that choice was not picked.
(function () {
  "use strict";

  function picked(optionId) {
    var input = document.querySelector('input[data-option="' + optionId + '"]');
    return !!(input && input.checked);
  }

  function update() {
    document.querySelectorAll(".survey-form .survey-section[data-show-if]").forEach(function (section) {
      var show = picked(section.getAttribute("data-show-if"));
      section.hidden = !show;
      section.querySelectorAll("input, textarea, select").forEach(function (input) {
        if (!input.hasAttribute("data-always-disabled")) { input.disabled = !show; }
      });
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.matches && event.target.matches(".survey-form input[data-option]")) { update(); }
  });
  document.addEventListener("DOMContentLoaded", update);
})();
