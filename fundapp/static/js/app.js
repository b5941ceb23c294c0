// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // No form is sent when a select changes: choosing an option (even with the arrow keys) must
  // not change the page or a setting until the person presses the form's button (WCAG 3.2.2).
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

// The application editor: save every few seconds when something changed, keep a copy in the
// browser while offline, add budget and partner rows, and show running totals.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosave-url]");
  if (!form) { return; }
  var status = document.getElementById("save-status");
  var key = "fundapp-draft:" + form.getAttribute("data-autosave-url");
  var dirty = false, busy = false, stopped = false;

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("is-error", !!isError);
  }

  function keepLocally() {
    try {
      var data = {};
      new FormData(form).forEach(function (v, k) { if (k !== "csrf_token") { (data[k] = data[k] || []).push(v); } });
      localStorage.setItem(key, JSON.stringify({ at: Date.now(), data: data }));
    } catch (e) { /* storage full or disabled: the server copy is what counts */ }
  }

  function showErrors(errors) {
    form.querySelectorAll(".autosave-error").forEach(function (el) { el.remove(); });
    Object.keys(errors || {}).forEach(function (name) {
      var anchor = document.getElementById(name) || form.querySelector("[name='" + name + "']");
      if (!anchor) { return; }
      var p = document.createElement("p");
      p.className = "error autosave-error";
      p.textContent = errors[name];
      anchor.insertAdjacentElement("afterend", p);
    });
  }

  function save() {
    if (!dirty || busy || stopped) { return; }
    busy = true; dirty = false;
    say(form.getAttribute("data-saving-text"));
    fetch(form.getAttribute("data-autosave-url"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (body) { return { code: response.status, body: body }; });
    }).then(function (result) {
      busy = false;
      if (result.code === 200) {
        form.querySelector("input[name=version]").value = result.body.version;
        var failed = Object.keys(result.body.errors || {}).length > 0;
        say(failed ? form.getAttribute("data-error-text")
                   : form.getAttribute("data-saved-text").replace("{time}", result.body.saved_at), failed);
        showErrors(result.body.errors);
        if (!failed) { localStorage.removeItem(key); }
      } else {
        stopped = true;
        say(result.body.message || form.getAttribute("data-error-text"), true);
      }
    }).catch(function () {
      busy = false; dirty = true;
      keepLocally();
      say(form.getAttribute("data-offline-text"), true);
    });
  }

  form.addEventListener("input", function () { dirty = true; keepLocally(); });
  form.addEventListener("change", function () { dirty = true; keepLocally(); });
  form.addEventListener("submit", function () { stopped = true; });
  setInterval(save, 4000);
  window.addEventListener("online", save);

  // Rows: copy the last row with the next index.
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var body = document.querySelector("[data-rows='" + button.getAttribute("data-add-row") + "'] tbody");
      var last = body.lastElementChild;
      var copy = last.cloneNode(true);
      var index = body.children.length;
      copy.querySelectorAll("input, select").forEach(function (el) {
        el.name = el.name.replace(/-\d+-/, "-" + index + "-");
        el.id = el.id.replace(/-\d+-/, "-" + index + "-");
        el.value = "";
      });
      body.appendChild(copy);
    });
  });

  // Running totals while typing (the server recomputes them on every save).
  function amount(text) {
    var s = (text || "").replace(/[\s\u00a0\u202f€]/g, "");
    var dec = Math.max(s.lastIndexOf(","), s.lastIndexOf("."));
    if (dec >= 0 && s.length - dec - 1 <= 2) {
      s = s.slice(0, dec).replace(/[.,]/g, "") + "." + s.slice(dec + 1);
    } else {
      s = s.replace(/[.,]/g, "");
    }
    var n = parseFloat(s);
    return isNaN(n) ? 0 : Math.round(n * 100);
  }
  function totals() {
    ["requested", "cofunding"].forEach(function (kind) {
      var cell = document.querySelector("[data-total='" + kind + "']");
      if (!cell) { return; }
      var cents = 0;
      form.querySelectorAll("[data-sum='" + kind + "']").forEach(function (input) { cents += amount(input.value); });
      cell.textContent = (cents / 100).toLocaleString(document.documentElement.lang || undefined,
        { style: "currency", currency: "EUR" });
    });
  }
  form.addEventListener("input", totals);
});
