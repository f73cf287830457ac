/*
 * The IT page, live: notices of the school unit arrive on /ws/it/<unit>/; a room notice that grows
 * during a burst is updated in place (same id), never repeated.
 */
(function () {
  "use strict";

  var root = document.getElementById("it-page");
  if (!root) { return; }
  var strings = document.getElementById("proctor-strings").dataset;
  var liveState = document.getElementById("live-state");
  var list = document.getElementById("notice-list");

  var lastNotice = 0;
  Array.prototype.forEach.call(list.querySelectorAll("[data-notice]"), function (li) {
    lastNotice = Math.max(lastNotice, +li.dataset.notice || 0);
  });

  function show(n, catchingUp) {
    var li = n.id ? list.querySelector('[data-notice="' + n.id + '"]') : null;
    // Sent live while the database was away, then again once stored: listed once.
    var key = n.drop ? n.kind + ":" + n.drop : "";
    if (!li && key) {
      li = list.querySelector('[data-drop="' + key + '"]');
      if (li && n.id) { li.dataset.notice = n.id; }
    }
    // Catching up: older notices the page never listed stay out (the list is newest first).
    if (!li && catchingUp && +n.id <= lastNotice) { return; }
    lastNotice = Math.max(lastNotice, +n.id || 0);
    var empty = list.querySelector("[data-empty]");
    if (empty) { empty.remove(); }
    if (!li) {
      li = document.createElement("li");
      if (n.id) { li.dataset.notice = n.id; }
      if (key) { li.dataset.drop = key; }
      li.className = "notice--" + n.kind;
      var time = document.createElement("time");
      time.dateTime = n.at;
      time.textContent = new Date(n.at).toLocaleTimeString();
      li.appendChild(time);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(document.createElement("span"));
      list.insertBefore(li, list.firstChild);
    }
    // The sentence comes from the server, in this page's language (delivery.notices.event_text).
    li.querySelector("span").textContent = n.text || n.kind;
  }

  // After a reconnect: the notices missed meanwhile, and room notices that grew, by id.
  function catchUp() {
    fetch(root.dataset.noticesUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        (data.notices || []).forEach(function (n) { show(n, true); });
      })
      .catch(function () { /* the next reconnect tries again */ });
  }

  // After a reconnect, or a "resync" (the server's live feed was away while the socket stayed
  // open), the page catches up.
  window.ppLive.feed({
    path: root.dataset.socket,
    state: liveState,
    online: strings.online,
    offline: strings.offline,
    catchUp: catchUp,
    onEvent: function (data) { if (data.type === "notice") { show(data); } }
  });
}());
