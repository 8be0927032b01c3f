// UnionHub console: the inbox hears of new questions and members' replies
// while it is open (server-sent events) and says so; a click on the
// notice's link shows them. Without this file the page still works: it
// shows what there was when it was loaded.
(function () {
  "use strict";
  var live = document.querySelector("[data-events]");
  if (!live || !window.EventSource) { return; }
  // On a question's page only its own thread counts.
  var ticket = live.getAttribute("data-ticket");
  var source = null;
  var heard = function (e) {
    var data = {};
    try { data = JSON.parse(e.data); } catch (ignored) { return; }
    if (ticket && String(data.ticket) !== ticket) { return; }
    live.hidden = false;
  };
  var open = function () {
    source = new EventSource(live.getAttribute("data-events"));
    source.addEventListener("question", heard);
    source.addEventListener("reply", heard);
    // The session ended: a reload shows the sign-in page.
    source.addEventListener("ended", function () { source.close(); });
    source.addEventListener("error", function () {
      // The browser retries by itself unless the server refused; then
      // try again in a minute.
      if (source.readyState === EventSource.CLOSED) { window.setTimeout(open, 60000); }
    });
  };
  open();
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });
})();
