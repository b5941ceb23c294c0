// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // No form is sent when a select changes: choosing an option (even with the arrow keys) must
  // not change the page or a setting until the person presses the form's button (WCAG 3.2.2).
  // Every refusal comes from the server, in the page's language and beside its field, with what
  // was typed kept: the browser's own bubbles (in the browser's language) are not used.
  document.querySelectorAll("form[method=post]").forEach(function (form) { form.noValidate = true; });
  // A refused form comes back with a summary of what to correct, or its first refused field:
  // brought into view (on a phone it may sit far from where the button was) and read out, unless
  // the page put the focus elsewhere.
  var summary = document.querySelector("[data-focus-on-load]") || document.querySelector("main [aria-invalid=true]");
  if (summary && (!document.activeElement || document.activeElement === document.body)) { summary.focus(); }
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

// An amount or a mark as typed ("45 000,50", "45.000,50 €", "3,5"), in cents (0 when empty).
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

// An amount read exactly as the server reads it (core/money.py parse_eur, whatever the page's
// language): "45.000,50", "45,000.50", "45 000,50 €" and "45000.5" are 4500050 cents; anything it
// refuses ("30.000,555": three decimals; "doce mil") is null, never a guess.
function isGrouping(parts) {
  return parts[0].length >= 1 && parts[0].length <= 3 && parts[0].charAt(0) !== "0" &&
    parts.every(function (p, i) { return /^[0-9]+$/.test(p) && (i === 0 || p.length === 3); });
}
function parseEur(text) {
  var body = String(text || "").replace(/[\s\u00a0\u202f\u2009']/g, "").replace(/€/g, "");
  if (/EUR$/i.test(body)) { body = body.slice(0, -3); }
  if (/^EUR/i.test(body)) { body = body.slice(3); }
  var negative = body.charAt(0) === "-";
  body = body.replace(/^[-+]+/, "");
  if (!body || !/^[0-9][0-9.,]*$/.test(body)) { return null; }
  var dots = body.split(".").length - 1, commas = body.split(",").length - 1;
  var whole, fraction = "";
  if (dots && commas) {
    var dec = body.lastIndexOf(".") > body.lastIndexOf(",") ? "." : ",";
    var halves = body.split(dec);
    if (halves.length !== 2) { return null; }
    var groups = halves[0].split(dec === "." ? "," : ".");
    if (!isGrouping(groups)) { return null; }
    whole = groups.join(""); fraction = halves[1];
  } else if (dots || commas) {
    var parts = body.split(dots ? "." : ",");
    if (parts.length > 2 || (parts[parts.length - 1].length === 3 && isGrouping(parts))) {
      if (!isGrouping(parts)) { return null; }
      whole = parts.join("");
    } else {
      whole = parts[0]; fraction = parts[1];
      if (!whole || !fraction) { return null; }
    }
  } else {
    whole = body;
  }
  if (fraction.length > 2 || whole.length > 13) { return null; }
  var cents = Number(whole) * 100 + Number((fraction + "00").slice(0, 2));
  return negative ? -cents : cents;
}

// What the server has and a copy kept on the device are the same when every field holds the same
// text (spaces around it aside) or the same number: the server writes amounts and marks its own way
// ("5 000,00" for "5 000" typed, "3,5" for "3.5", "0,00" for an amount left empty), and drops rows
// left empty.
var NUMERIC = /^-?[\d\s\u00a0\u202f.,]*\d[\d\s\u00a0\u202f.,]*€?$/;
function sameValue(a, b) {
  a = String(a).trim(); b = String(b).trim();
  if (a === b) { return true; }
  return (a === "" || NUMERIC.test(a)) && (b === "" || NUMERIC.test(b)) && amount(a) === amount(b);
}
function sameFields(kept, now) {
  return Object.keys(kept).concat(Object.keys(now)).every(function (name) {
    var a = kept[name] || [], b = now[name] || [];
    if (!(name in now)) { return a.every(function (v) { return String(v).trim() === ""; }); }
    if (!(name in kept)) { return b.every(function (v) { return String(v).trim() === ""; }); }
    return a.length === b.length && a.every(function (v, i) { return sameValue(v, b[i]); });
  });
}
// Rows of a table ("budget-3-requested", "partners-1-role") are compared in their order, rows left
// empty aside: the server keeps the filled rows and numbers them again from 0.
var ROW = /^([a-z_]+)-(\d+)-(.+)$/;
function tablesOf(data) {
  var fields = {}, tables = {};
  Object.keys(data).forEach(function (name) {
    var m = ROW.exec(name);
    if (!m) { fields[name] = data[name]; return; }
    var table = tables[m[1]] = tables[m[1]] || {};
    (table[m[2]] = table[m[2]] || {})[m[3]] = data[name];
  });
  Object.keys(tables).forEach(function (name) {
    tables[name] = Object.keys(tables[name]).sort(function (a, b) { return a - b; })
      .map(function (i) { return tables[name][i]; })
      .filter(function (row) {  // "" for a field left empty, "0" for a select left on "—"
        return Object.keys(row).some(function (k) {
          return row[k].some(function (v) { var t = String(v).trim(); return t !== "" && t !== "0"; });
        });
      });
  });
  return { fields: fields, tables: tables };
}
function sameData(kept, now) {
  var a = tablesOf(kept), b = tablesOf(now);
  return sameFields(a.fields, b.fields) && Object.keys(a.tables).concat(Object.keys(b.tables)).every(function (name) {
    var x = a.tables[name] || [], y = b.tables[name] || [];
    return x.length === y.length && x.every(function (row, i) { return sameFields(row, y[i]); });
  });
}
// A page that refused what was sent shows it back as typed: the copy kept on the device stays
// (the server does not have it) until a page shows the same values without a refusal.
function pageRefused() {
  return !!document.querySelector(".error-summary[role=alert], main [aria-invalid=true], #budget-error, #stale");
}

// What a form holds, {name: [values]} (the CSRF token and any other name in `skip` aside).
function formValues(form, skip) {
  var data = {};
  new FormData(form).forEach(function (v, k) {
    if (typeof v === "string" && skip.indexOf(k) < 0) { (data[k] = data[k] || []).push(v); }
  });
  return data;
}
// A copy kept on the device ({at, data}), or null.
function readKept(key) {
  try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
}
// When a kept copy was typed, in the page's language.
// On the reader's clock as the page shows its own times ("Saved at ... (America/Bogota)"), not the
// device's, so that a copy and a save can be told apart by their times.
function keptWhen(kept) {
  var zone = document.body.getAttribute("data-reader-zone");
  var options = { dateStyle: "medium", timeStyle: "short" };
  try {
    if (zone) { return new Date(kept.at).toLocaleString(document.documentElement.lang || undefined, Object.assign({ timeZone: zone }, options)) + " (" + zone + ")"; }
  } catch (e) { /* a zone the browser does not know: its own clock */ }
  return new Date(kept.at).toLocaleString(document.documentElement.lang || undefined, options);
}
// Puts a kept copy back into its form (rows must exist already).
function fillForm(form, data) {
  form.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (el) {
    if (!(el.name in data)) { el.checked = false; }
  });
  Object.keys(data).forEach(function (name) {
    var values = data[name];
    form.querySelectorAll("[name='" + name + "']").forEach(function (el, i) {
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) >= 0;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
      } else if (el.type !== "hidden" && el.type !== "file" && el.type !== "submit") {
        el.value = values[i] !== undefined ? values[i] : values[0];
      }
    });
  });
}

// Long forms without autosave (a review, a report): what is typed is kept on this device until
// the server shows it back, so a session that ended, a lost connection or a second window costs
// nothing. A page showing the form with other values offers the kept copy back; one showing the
// same values (saved, or reopened after a submission) drops it, as it drops copies over 30 days old.
document.addEventListener("DOMContentLoaded", function () {
  var MONTH = 30 * 24 * 3600 * 1000;
  // Forms the server stored since the last page (a new call, a message sent): their copies go.
  var saved = document.querySelector("meta[name='fundapp-kept-saved']");
  if (saved) {
    saved.getAttribute("content").split(" ").forEach(function (key) {
      try { localStorage.removeItem("fundapp-form:" + key); } catch (e) { /* storage off */ }
    });
  }
  document.querySelectorAll("form[data-keep]").forEach(function (form) {
    var key = "fundapp-form:" + form.getAttribute("data-keep");
    function values() { return formValues(form, ["csrf_token"]); }
    function keep() {
      try { localStorage.setItem(key, JSON.stringify({ at: Date.now(), data: values() })); } catch (e) { /* full */ }
    }
    var kept = readKept(key);
    var offer = document.querySelector("[data-kept-for='" + form.id + "']");
    var same = kept && kept.data && sameData(kept.data, values());
    if (kept && kept.data && (Date.now() - kept.at > MONTH || (same && !pageRefused()))) {
      localStorage.removeItem(key);
    } else if (kept && kept.data && !same && offer) {
      offer.querySelector("[data-kept-text]").textContent = offer.getAttribute("data-text").replace("{time}", keptWhen(kept));
      offer.hidden = false;
      offer.querySelector("[data-restore]").addEventListener("click", function () {
        offer.hidden = true;
        fillForm(form, kept.data);
        var first = form.querySelector("textarea, select, input:not([type=hidden])");
        if (first) { first.focus(); }
      });
      offer.querySelector("[data-discard]").addEventListener("click", function () {
        offer.hidden = true;
        localStorage.removeItem(key);
      });
      if (!document.querySelector("[data-focus-on-load]")) { offer.focus(); }
    }
    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
    form.addEventListener("submit", keep);
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

  function versionNow() { return form.querySelector("input[name=version]").value; }

  function currentValues() { return formValues(form, ["csrf_token", "version"]); }

  function keepLocally() {
    try {
      localStorage.setItem(key, JSON.stringify({ at: Date.now(), version: versionNow(), data: currentValues() }));
    } catch (e) { /* storage full or disabled: the server copy is what counts */ }
  }

  function showErrors(errors) {
    form.querySelectorAll(".autosave-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[data-autosave-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid"); el.removeAttribute("data-autosave-invalid");
    });
    Object.keys(errors || {}).forEach(function (name) {
      var anchor = document.getElementById(name) || form.querySelector("[name='" + name + "']");
      if (!anchor) { return; }
      var p = document.createElement("p");
      p.className = "error autosave-error";
      p.textContent = errors[name];
      anchor.insertAdjacentElement("afterend", p);
      if (/^(INPUT|SELECT|TEXTAREA)$/.test(anchor.tagName) && !anchor.hasAttribute("aria-invalid")) {
        anchor.setAttribute("aria-invalid", "true"); anchor.setAttribute("data-autosave-invalid", "");
      }
    });
  }

  // A budget above the cap is saved, but cannot be sent: the page says so while it is.
  function showOverCap(text) {
    document.querySelectorAll("[data-over-cap]").forEach(function (el) {
      el.hidden = !text;
      if (text && el.id === "over-cap") { el.textContent = text; }
    });
  }

  // One save at a time; the promise settles when this save (or the one under way) is done.
  var inFlight = null;
  function save() {
    if (inFlight) { return inFlight; }
    if (!dirty || stopped) { return Promise.resolve(); }
    busy = true; dirty = false;
    say(form.getAttribute("data-saving-text"));
    inFlight = fetch(form.getAttribute("data-autosave-url"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (body) { return { code: response.status, body: body }; });
    }).then(function (result) {
      busy = false; inFlight = null;
      if (result.code === 200) {
        form.querySelector("input[name=version]").value = result.body.version;
        var failed = Object.keys(result.body.errors || {}).length > 0;
        say(failed ? form.getAttribute("data-error-text")
                   : form.getAttribute("data-saved-text").replace("{time}", result.body.saved_at), failed);
        showErrors(result.body.errors);
        showOverCap((result.body.notes || {}).budget);
        savedTotals(result.body.totals);
        // Text typed while this save was on its way stays kept here until the next save.
        if (!failed && !dirty) { localStorage.removeItem(key); } else { keepLocally(); }
      } else {
        stopped = true;
        say(result.body.message || form.getAttribute("data-error-text"), true);
      }
    }).catch(function () {
      busy = false; dirty = true; inFlight = null;
      keepLocally();
      say(form.getAttribute("data-offline-text"), true);
    });
    return inFlight;
  }

  form.addEventListener("input", function () { dirty = true; keepLocally(); });
  form.addEventListener("change", function () { dirty = true; keepLocally(); });
  form.addEventListener("submit", function () { stopped = true; });
  setInterval(function () { if (!busy) { save(); } }, 4000);
  window.addEventListener("online", save);

  // Attaching a document reloads the page: the draft is saved first, so nothing typed is lost
  // (and if it cannot be sent, the copy kept on this device is offered back after the reload).
  document.querySelectorAll("form[data-saves-draft-first]").forEach(function (upload) {
    var sending = false;
    upload.addEventListener("submit", function (event) {
      if (sending || !dirty && !inFlight) { return; }
      event.preventDefault();
      save().then(function () {
        sending = true;
        if (upload.requestSubmit) { upload.requestSubmit(); } else { upload.submit(); }
      });
    });
  });

  // A copy kept on this device that the server does not have is offered back: restore or discard.
  function addRowsFor(name) {
    var match = /^(\w+)-(\d+)-/.exec(name);
    if (!match) { return; }
    var button = document.querySelector("[data-add-row='" + match[1] + "']");
    var body = document.querySelector("[data-rows='" + match[1] + "'] tbody");
    while (button && body && body.children.length <= Number(match[2])) { button.click(); }
  }

  function restore(data) {
    Object.keys(data).forEach(addRowsFor);
    fillForm(form, data);
    dirty = true;
    totals();
    save();
  }

  function offerKeptCopy() {
    var kept = readKept(key);
    if (!kept || !kept.data) { return; }
    if (sameData(kept.data, currentValues())) {
      if (!pageRefused()) { localStorage.removeItem(key); }
      return;
    }
    var offer = document.getElementById("kept-copy");
    if (!offer) { return; }
    var when = keptWhen(kept);
    var older = String(kept.version) !== String(versionNow());
    offer.querySelector("[data-kept-text]").textContent =
      offer.getAttribute(older ? "data-older-text" : "data-newer-text").replace("{time}", when);
    offer.hidden = false;
    offer.querySelector("[data-restore]").addEventListener("click", function () {
      offer.hidden = true;
      restore(kept.data);
      var first = form.querySelector("textarea, select, input:not([type=hidden])");
      if (first) { first.focus(); }
    });
    offer.querySelector("[data-discard]").addEventListener("click", function () {
      offer.hidden = true;
      localStorage.removeItem(key);
    });
    offer.focus();
  }

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
        if (el.tagName === "SELECT") { el.selectedIndex = 0; } else { el.value = ""; }  // "—" for a select
      });
      body.appendChild(copy);
    });
  });

  // The total of what is typed, read as the server will read it: a cell it cannot read (three
  // decimals, words, a negative amount) is named instead of a total that would count it as 0.
  var live = document.querySelector("[data-live-total]");
  function totals() {
    if (!live) { return; }
    live.hidden = false;
    ["requested", "cofunding"].forEach(function (kind) {
      var cell = live.querySelector("[data-total='" + kind + "']");
      var cents = 0, unread = null;
      form.querySelectorAll("[data-sum='" + kind + "']").forEach(function (input) {
        var typed = input.value.trim();
        if (!typed || unread !== null) { return; }
        var read = parseEur(typed);
        if (read === null || read < 0) { unread = typed; } else { cents += read; }
      });
      cell.textContent = unread !== null ? live.getAttribute("data-unread-text").replace("{value}", unread)
        : (cents / 100).toLocaleString(document.documentElement.lang || undefined,
          { style: "currency", currency: "EUR", useGrouping: "always" });  // "4.500,50 €" in Spanish, as the server writes it
      cell.classList.toggle("error", unread !== null);
    });
  }
  // The totals the server holds, as it last accepted the budget.
  function savedTotals(figures) {
    Object.keys(figures || {}).forEach(function (kind) {
      var cell = document.querySelector("[data-saved-total='" + kind + "']");
      if (cell) { cell.textContent = figures[kind]; }
    });
  }
  form.addEventListener("input", totals);
  totals();
  offerKeptCopy();
});

// A donor report being built: follow its progress, and show it once it is ready.
document.addEventListener("DOMContentLoaded", function () {
  var progress = document.getElementById("report-progress");
  if (!progress || !progress.getAttribute("data-status-url")) { return; }
  var reload = document.getElementById("report-reload");
  if (reload) { reload.hidden = true; }
  function poll() {
    fetch(progress.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.status === "done" || body.status === "failed") { window.location.reload(); return; }
        progress.textContent = progress.getAttribute("data-template").replace("{n}", body.progress);
        setTimeout(poll, 2000);
      })
      .catch(function () {
        if (reload) { reload.hidden = false; }  // no connection: the button is there again
        setTimeout(poll, 10000);
      });
  }
  setTimeout(poll, 2000);
});


// The staff list's bulk actions: "select all on this page" ticks the rows too (the server reads
// that box by itself without this script), and unticking a row unticks it.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-bulk]");
  if (!form) { return; }
  var all = form.querySelector("[data-select-all]");
  var rows = form.querySelectorAll("input[type=checkbox][name=application]");
  if (!all) { return; }
  all.addEventListener("change", function () {
    rows.forEach(function (box) { box.checked = all.checked; });
  });
  rows.forEach(function (box) {
    box.addEventListener("change", function () { if (!box.checked) { all.checked = false; } });
  });
});

// A table wider than the screen scrolls sideways inside its box (a phone, a long list): a shadow
// on the edge it continues past says there is more, and goes once the end is in view.
document.addEventListener("DOMContentLoaded", function () {
  function watch(box) {
    function update() {
      var hidden = box.scrollWidth - box.clientWidth;
      box.classList.toggle("more-right", hidden > 2 && box.scrollLeft < hidden - 2);
      box.classList.toggle("more-left", hidden > 2 && box.scrollLeft > 2);
    }
    box.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    update();
  }
  document.querySelectorAll(".table-scroll, main table").forEach(watch);
});
