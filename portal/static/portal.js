// The resident portal: filter the request types as you type (the full list without JS).
(function () {
  "use strict";
  var filter = document.querySelector("[data-filter]");
  if (filter) {
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      document.querySelectorAll("#" + filter.dataset.filter + " li").forEach(function (li) {
        li.hidden = q !== "" && li.dataset.words.indexOf(q) < 0;
      });
    });
  }

})();
