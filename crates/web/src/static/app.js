// SafetyNet: a little progressive enhancement of our own; every page works without it.
(function () {
  "use strict";
  // Ask before moving an alert to a closed state.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.id === "transition-form") {
      var to = f.querySelector("select[name=to]");
      if (to && (to.value === "dismissed") && !f.querySelector("input[name=note]").value.trim()) {
        e.preventDefault();
        f.querySelector("input[name=note]").focus();
        f.querySelector("input[name=note]").setCustomValidity("A reason is required / 请填写原因");
        f.reportValidity();
      }
    }
  });
  // A button that prints the page (the settlement slip).
  document.addEventListener("click", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-print")) window.print();
  });
  document.addEventListener("input", function (e) {
    if (e.target.setCustomValidity) e.target.setCustomValidity("");
  });
})();
