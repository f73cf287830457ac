/*
 * Presence socket of the exam client. Plain JavaScript, no framework.
 *
 * Opens /ws/attempt/<attempt>/ (the session cookie authenticates it), sends {"type":"hb"} every
 * heartbeat_s seconds (the server says how often in its "hello"; 3 s by default) and reconnects
 * with backoff (0.25 s, 0.5 s, 1 s ... at most 10 s, with jitter) whenever the socket closes or
 * the server stays silent for heartbeat_s + grace_s.
 *
 * API for the page (the exam client listens; nothing else is needed):
 *   window.ppPresence.start(attemptId)  start (done automatically when #exam-config or an
 *                                       element with data-presence-attempt exists)
 *   window.ppPresence.online            true while the socket is open
 *   window.ppPresence.stop()            close for good (after submit)
 * Events dispatched on document:
 *   "pp:online"            the socket is open (again); window.ppExam.flush() is also called
 *   "pp:offline"           the socket closed or went silent
 *   "pp:device-replaced"   the attempt continues on another device; the socket is not reopened
 *   "pp:attempt-changed"   detail = the server's {"type":"attempt.changed", status, deadline, ...}
 */
(function () {
  "use strict";

  var socket = null;
  var attempt = null;
  var stopped = false;
  var attempts = 0;
  var heartbeatMs = 3000;
  var graceMs = 4000;
  var beatTimer = null;
  var watchdog = null;
  var retryTimer = null;

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail || {} }));
  }

  function url() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + "/ws/attempt/" + attempt + "/";
  }

  function clearTimers() {
    window.clearInterval(beatTimer);
    window.clearTimeout(watchdog);
    beatTimer = null;
    watchdog = null;
  }

  function armWatchdog() {
    window.clearTimeout(watchdog);
    watchdog = window.setTimeout(function () {
      // The server has been silent too long: treat the socket as dead and start over.
      if (socket) { try { socket.close(); } catch (e) { /* already closing */ } }
    }, heartbeatMs + graceMs);
  }

  function beat() {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send('{"type":"hb"}');
    }
  }

  function setOnline(value) {
    if (api.online === value) { return; }
    api.online = value;
    emit(value ? "pp:online" : "pp:offline");
    if (value && window.ppExam && typeof window.ppExam.flush === "function") {
      window.ppExam.flush();
    }
  }

  function scheduleRetry() {
    if (stopped) { return; }
    var base = Math.min(10000, 250 * Math.pow(2, attempts));
    attempts += 1;
    retryTimer = window.setTimeout(connect, base / 2 + Math.random() * base / 2);
  }

  function connect() {
    if (stopped || !attempt) { return; }
    try {
      socket = new WebSocket(url());
    } catch (e) {
      scheduleRetry();
      return;
    }
    socket.onopen = function () {
      attempts = 0;
      setOnline(true);
      beat();
      beatTimer = window.setInterval(beat, heartbeatMs);
      armWatchdog();
    };
    socket.onmessage = function (message) {
      armWatchdog();
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (data.type === "hello") {
        heartbeatMs = (data.heartbeat_s || 3) * 1000;
        graceMs = (data.grace_s || 4) * 1000;
        window.clearInterval(beatTimer);
        beatTimer = window.setInterval(beat, heartbeatMs);
      } else if (data.type === "device.replaced") {
        stopped = true;
        emit("pp:device-replaced", data);
      } else if (data.type === "attempt.changed") {
        emit("pp:attempt-changed", data);
      }
    };
    socket.onclose = function (event) {
      clearTimers();
      socket = null;
      setOnline(false);
      // 4409: replaced by another device; 4403: not (or no longer) this student's attempt.
      if (event.code === 4409 && !stopped) { emit("pp:device-replaced", {}); }
      if (event.code === 4409 || event.code === 4403) { stopped = true; }
      scheduleRetry();
    };
  }

  var api = {
    online: false,
    start: function (attemptId) {
      if (attempt) { return; }
      attempt = attemptId;
      stopped = false;
      connect();
    },
    stop: function () {
      stopped = true;
      window.clearTimeout(retryTimer);
      clearTimers();
      if (socket) { socket.close(1000); }
    }
  };
  window.ppPresence = api;

  // The browser knows first when the network is back: reconnect now rather than at the end of a
  // back-off that may have grown to 10 s during the outage.
  window.addEventListener("online", function () {
    if (stopped || !attempt || socket) { return; }
    window.clearTimeout(retryTimer);
    attempts = 0;
    connect();
  });

  var configNode = document.getElementById("exam-config");
  if (configNode) {
    try { api.start(JSON.parse(configNode.textContent).attempt); } catch (e) { /* no config */ }
  } else {
    // Other student pages (the "submitted" page) listen too, so a reopened test comes back.
    var node = document.querySelector("[data-presence-attempt]");
    if (node) { api.start(node.dataset.presenceAttempt); }
  }
}());
