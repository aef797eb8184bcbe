/* Small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // Flash messages can be dismissed.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) button.closest(".message").remove();
  });

  // Report-progress forms: the completion date only matters when the status is Done.
  function syncProgressForm(form) {
    var status = form.querySelector("select[name=status]");
    var date = form.querySelector("input[name=completed_date]");
    if (!status || !date) return;
    var done = status.value === "done";
    date.hidden = !done;
    date.disabled = !done;
    var label = form.querySelector('label[for="' + date.id + '"]');
    if (label) label.hidden = !done;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("[data-progress-form]");
    if (form) syncProgressForm(form);
  });

  ready(function () {
    document.querySelectorAll("[data-progress-form]").forEach(syncProgressForm);
  });

  // Ripple panels answer 400/404 with a fragment that says why: show it in place of the
  // "Loading…" placeholder (htmx leaves error responses unswapped by default).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var status = event.detail.xhr.status;
    if (source && source.closest(".ripple-placeholder") && status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Review sessions: an agenda item answers a refused action (400, 403, 409) with its row and
  // the form's errors; show it in place. The minutes' Print button prints the page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var status = event.detail.xhr.status;
    if (source && source.closest("[data-agenda-item]") && status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
