/*
 * The service-status page updates itself every 30 s by reading the page again and replacing only
 * its live part, never by reloading the whole page (a meta refresh moves a screen reader back to
 * the top and cannot be stopped). "Stop updating" stops it.
 */
(function () {
  "use strict";

  var live = document.getElementById("status-live");
  var toggle = document.getElementById("status-toggle");
  var note = document.getElementById("status-updated");
  if (!live || !toggle) { return; }
  var INTERVAL_MS = 30000;
  var timer = null;

  function update() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("status-live");
        if (!next) { return; }
        live.innerHTML = next.innerHTML;
        note.textContent = toggle.dataset.updated + " " + new Date().toLocaleTimeString();
      })
      .catch(function () { /* try again at the next interval */ });
  }

  function start() {
    timer = window.setInterval(update, INTERVAL_MS);
    toggle.textContent = toggle.dataset.stop;
  }

  function stop() {
    window.clearInterval(timer);
    timer = null;
    toggle.textContent = toggle.dataset.start;
    note.textContent = toggle.dataset.stopped;
  }

  toggle.hidden = false;
  toggle.addEventListener("click", function () { if (timer) { stop(); } else { update(); start(); } });
  start();
}());
