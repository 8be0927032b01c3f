// UnionHub console: small progressive enhancements. Every page works
// without this file; it only makes some things nicer.
(function () {
  "use strict";

  // On a phone the navigation folds behind a button; without JavaScript
  // it simply stays open.
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("nav");
  if (toggle && nav) {
    var narrow = window.matchMedia("(max-width: 40rem)");
    var fold = function () {
      toggle.hidden = !narrow.matches;
      nav.classList.toggle("folded", narrow.matches && toggle.getAttribute("aria-expanded") !== "true");
    };
    toggle.addEventListener("click", function () {
      toggle.setAttribute("aria-expanded", toggle.getAttribute("aria-expanded") === "true" ? "false" : "true");
      fold();
    });
    narrow.addEventListener("change", fold);
    fold();
  }

  // A form asks before it does something that cannot be undone
  // (data-confirm="question"), and is sent once: its buttons rest while
  // the next page loads.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
      return;
    }
    if (form.dataset.sent === "1") {
      e.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      b.setAttribute("aria-disabled", "true");
    });
  });

  // Back from the browser's cache, a sent form may be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (f) {
      delete f.dataset.sent;
      f.querySelectorAll("button[aria-disabled]").forEach(function (b) { b.removeAttribute("aria-disabled"); });
    });
  });

  // A part of a page marked data-refresh="seconds" (a broadcast's
  // progress) is fetched again and swapped in until the fresh copy no
  // longer carries the mark; without this the page has a reload link.
  document.querySelectorAll("[data-refresh][id]").forEach(function (part) {
    var every = Math.max(1, parseInt(part.getAttribute("data-refresh"), 10) || 2) * 1000;
    var tick = function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(part.id);
          if (!fresh) { return; }
          part.replaceWith(fresh);
          part = fresh;
          if (fresh.hasAttribute("data-refresh")) { window.setTimeout(tick, every); }
        })
        .catch(function () { window.setTimeout(tick, every * 3); });
    };
    window.setTimeout(tick, every);
  });

  // The composer counts the recipients again as the audience changes
  // (data-count is where to ask), so the count shown is the one sent.
  document.querySelectorAll("form[data-count]").forEach(function (form) {
    var count = form.querySelector("#count");
    var counted = form.querySelector("input[name=counted]");
    if (!count || !counted) { return; }
    var recount = function () {
      var q = new URLSearchParams();
      new FormData(form).forEach(function (v, k) {
        if (["text", "csrf", "at", "action", "file", "file_id", "file_kind", "unfile"].indexOf(k) < 0) { q.append(k, v); }
      });
      fetch(form.getAttribute("data-count") + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (j) {
          count.textContent = "";
          var strong = document.createElement("strong");
          strong.textContent = j.count;
          count.appendChild(strong);
          counted.value = j.counted;
        })
        .catch(function () { /* the server counts again on sending */ });
    };
    form.addEventListener("change", function (e) {
      if (["text", "at", "file", "file_kind", "unfile"].indexOf(e.target.name) < 0) { recount(); }
    });
  });

  // A file over the bound is told at once, before its bytes go; the
  // server tells it too.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var hint = document.getElementById(input.getAttribute("aria-describedby"));
    var said = hint ? hint.textContent : "";
    input.addEventListener("change", function () {
      var f = input.files && input.files[0];
      var tooBig = f && f.size > parseInt(input.getAttribute("data-max-bytes"), 10);
      if (tooBig) { input.value = ""; }
      if (hint) {
        hint.textContent = tooBig ? input.getAttribute("data-too-big") : said;
        hint.classList.toggle("error", !!tooBig);
      }
    });
  });

  // Formatting buttons wrap the selected text of the composer in a tag.
  document.querySelectorAll(".markup-tools[data-for]").forEach(function (tools) {
    var area = document.getElementById(tools.getAttribute("data-for"));
    if (!area) { return; }
    tools.hidden = false;
    tools.addEventListener("click", function (e) {
      var tag = e.target.getAttribute && e.target.getAttribute("data-tag");
      if (!tag) { return; }
      var open = "<" + tag + ">";
      if (tag === "a") {
        var href = window.prompt(e.target.getAttribute("data-prompt") || "URL", "https://");
        if (!href) { return; }
        open = '<a href="' + href.replace(/"/g, "&quot;") + '">';
      }
      var from = area.selectionStart, to = area.selectionEnd, v = area.value;
      area.value = v.slice(0, from) + open + v.slice(from, to) + "</" + tag + ">" + v.slice(to);
      area.focus();
      area.setSelectionRange(from + open.length, to + open.length);
    });
  });
})();
