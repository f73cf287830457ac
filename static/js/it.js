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

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined || values[key] === null ? "" : values[key];
    });
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds || 0));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m ? m + " min " + s + " s" : s + " s";
  }

  function text(n) {
    if (n.kind === "connection_lost") { return fill(strings.lost, n); }
    if (n.kind === "connection_restored") {
      return fill(strings.restored, { name: n.name, duration: duration(n.outage_seconds) });
    }
    if (n.kind === "device_switched") { return fill(strings.switched, n); }
    if (n.kind === "room_connection_lost") {
      var t = fill(strings.room, n);
      return n.restored ? t + " (" + fill(strings.roomRestored, n) + ")" : t;
    }
    return n.kind;
  }

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
    li.querySelector("span").textContent = text(n);
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

  var retries = 0;
  var everOpen = false;
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + root.dataset.socket);
    socket.onopen = function () {
      retries = 0;
      liveState.dataset.online = "true";
      liveState.textContent = strings.online;
      if (everOpen) { catchUp(); }
      everOpen = true;
    };
    socket.onmessage = function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (data.type === "notice") { show(data); }
      // The server's live feed was away (the socket stayed open): catch up as after a reconnect.
      if (data.type === "resync") { catchUp(); }
    };
    socket.onclose = function (event) {
      liveState.dataset.online = "false";
      liveState.textContent = strings.offline;
      if (event.code === 4403) { return; }
      var wait = Math.min(10000, 500 * Math.pow(2, retries));
      retries += 1;
      window.setTimeout(connect, wait / 2 + Math.random() * wait / 2);
    };
  }
  connect();
}());
