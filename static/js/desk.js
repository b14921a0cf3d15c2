// Small behaviours of the service desk UI: language switch, queue row navigation and
// selection, the workspace's keyboard shortcuts (press "?" for the list), and module
// selects that follow the chosen system.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function typing(event) {
    var el = event.target;
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-keyboard-list] tbody tr[data-href]"));
  }

  var current = -1;
  function highlight(index) {
    var list = rows();
    if (!list.length) return;
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (row, i) { row.classList.toggle("is-current", i === current); });
    var link = list[current].querySelector("a.ticket-link");
    if (link) link.focus({ preventScroll: false });
  }

  function updateBulk() {
    var form = document.getElementById("bulk-form");
    if (!form) return;
    var checked = document.querySelectorAll('input[name="ids"][form="bulk-form"]:checked').length;
    var counter = form.querySelector("[data-selected-count]");
    if (counter) counter.textContent = checked;
    var button = form.querySelector("[data-bulk-submit]");
    if (button) button.disabled = checked === 0;
  }

  function click(selector) {
    var el = document.querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  }

  function openAction(name) {
    var button = document.querySelector('[data-action="' + name + '"]');
    if (!button) return;
    var panel = document.getElementById("action-" + name);
    function focusField() {
      var field = panel.querySelector("textarea, select, input:not([type=hidden])");
      if (field) field.focus();
    }
    // A form not on the page yet is fetched as the panel opens (htmx): focus it on arrival.
    if (panel && !panel.querySelector("form")) {
      panel.addEventListener("htmx:afterSettle", focusField, { once: true });
    }
    button.click();
    if (panel) setTimeout(focusField, 200);
  }

  function focusComment(internal) {
    var box = document.querySelector(".comment-form textarea");
    var flag = document.querySelector('.comment-form input[name="is_internal"]');
    if (flag) flag.checked = !!internal;
    if (box) { box.scrollIntoView({ block: "center" }); box.focus(); }
  }

  var pendingG = false;
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      var target = document.querySelector('[data-shortcut="g ' + key + '"]');
      if (target) { event.preventDefault(); target.click(); }
      return;
    }
    if (key === "g") { pendingG = true; setTimeout(function () { pendingG = false; }, 1200); return; }
    if (key === "?") { event.preventDefault(); click('[data-bs-target="#shortcuts"]'); return; }
    if (key === "/") {
      var search = document.getElementById("id_q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (key === "c") { if (click('[data-shortcut="c"]')) event.preventDefault(); return; }
    if (document.querySelector("[data-keyboard-list]")) {
      if (key === "j") { event.preventDefault(); highlight(current + 1); return; }
      if (key === "k") { event.preventDefault(); highlight(current - 1); return; }
      if ((key === "o" || key === "Enter") && current >= 0) {
        event.preventDefault(); window.location = rows()[current].dataset.href; return;
      }
      if (key === "x" && current >= 0) {
        var box = rows()[current].querySelector('input[name="ids"]');
        if (box) { event.preventDefault(); box.checked = !box.checked; updateBulk(); }
        return;
      }
      if (key === "n") { click('a[rel="next"]'); return; }
      if (key === "p") { click('a[rel="prev"]'); return; }
    }
    if (document.querySelector("[data-ticket-page]")) {
      if (key === "t") { if (click('[data-action="take"]')) event.preventDefault(); return; }
      if (key === "e") { event.preventDefault(); openAction("escalate"); return; }
      if (key === "r") { event.preventDefault(); focusComment(false); return; }
      if (key === "n") { event.preventDefault(); focusComment(true); return; }
    }
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("[data-autosubmit]")) el.form.submit();
    if (el.matches("[data-select-all]")) {
      document.querySelectorAll('input[name="ids"][form="bulk-form"]').forEach(function (box) { box.checked = el.checked; });
    }
    if (el.matches('input[name="ids"], [data-select-all]')) updateBulk();
  });

  // A click anywhere on a queue row opens the ticket (links and checkboxes keep their own).
  document.addEventListener("click", function (event) {
    var row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, input, label, button")) return;
    window.location = row.dataset.href;
  });

  // Knowledge: "Insert steps" puts an article's steps into the reply box; "Copy" copies a
  // fix script (never run by the desk).
  document.addEventListener("click", function (event) {
    var insert = event.target.closest("[data-kb-insert]");
    var box = document.querySelector(".comment-form textarea");
    if (insert && box) {
      box.value = (box.value ? box.value.replace(/\s+$/, "") + "\n\n" : "") + insert.dataset.kbInsert;
      box.scrollIntoView({ block: "center" }); box.focus();
    }
    var copy = event.target.closest("[data-kb-copy]");
    if (copy && navigator.clipboard) {
      var code = copy.parentElement.querySelector("pre");
      if (code) navigator.clipboard.writeText(code.innerText);
    }
  });

  // A module select (grouped by system, data-depends-on="system") shows only the chosen
  // system's modules; a module of another system is cleared. The server checks the pair again.
  function narrowModules(select) {
    var system = select.form && select.form.elements[select.dataset.dependsOn];
    if (!system) return;
    var chosen = system.selectedIndex > 0 ? system.options[system.selectedIndex].text : "";
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      var hidden = chosen !== "" && group.label !== chosen;
      group.hidden = hidden; group.disabled = hidden;
      if (hidden && group.contains(select.options[select.selectedIndex])) select.value = "";
    });
  }
  function narrowAll() {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-depends-on]"), narrowModules);
  }
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form) return;
    Array.prototype.forEach.call(form.querySelectorAll("select[data-depends-on]"), function (select) {
      if (event.target.name === select.dataset.dependsOn) narrowModules(select);
    });
  });

  document.addEventListener("htmx:afterSwap", function () { current = -1; updateBulk(); narrowAll(); });
  ready(updateBulk);
  ready(narrowAll);
})();
