// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      // Stop a second click from sending the form twice on a slow connection.
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
});

// Deadlines: show the instant on the visitor's own clock as well.
// The server alone decides whether a deadline has passed; this is display only.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-instant]").forEach(function (el) {
    var when = new Date(el.getAttribute("data-instant"));
    if (isNaN(when)) { return; }
    var text = when.toLocaleString(document.documentElement.lang || undefined,
      { dateStyle: "full", timeStyle: "short" });
    el.textContent = el.getAttribute("data-template").replace("{when}", text);
    el.hidden = false;
  });
});
