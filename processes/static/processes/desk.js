// Reply templates on the case page: choosing a standard text fills the form's field (a static file,
// so that it runs under the production Content-Security-Policy, which allows no inline script).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.classList || !select.classList.contains("reply-template")) {
      return;
    }
    var option = select.options[select.selectedIndex];
    var form = select.closest("form");
    var field = form && form.querySelector("[name='" + select.dataset.target + "']");
    if (field && option && option.dataset.text !== undefined) {
      field.value = option.dataset.text;
      field.focus();
    }
  });
})();
