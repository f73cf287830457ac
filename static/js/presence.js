/*
 * Presence socket of the exam client. Plain JavaScript, no framework.
 *
 * Opens /ws/attempt/<attempt>/ (the session cookie authenticates it), sends {"type":"hb"} every
 * heartbeat_s seconds (the server says how often in its "hello"; 3 s by default) and reconnects
 * with backoff (0.25 s, 0.5 s, 1 s ... at most 10 s, with jitter; ppLive.connect in live.js)
 * whenever the socket closes or the server stays silent for heartbeat_s + grace_s.
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

  var live = null;
  var attempt = null;
  var replaced = false;
  var heartbeatMs = 3000;
  var graceMs = 4000;
  var beatTimer = null;
  var watchdog = null;

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail || {} }));
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
      live.close();
    }, heartbeatMs + graceMs);
  }

  function beat() {
    live.send('{"type":"hb"}');
  }

  function setOnline(value) {
    if (api.online === value) { return; }
    api.online = value;
    emit(value ? "pp:online" : "pp:offline");
    if (value && window.ppExam && typeof window.ppExam.flush === "function") {
      window.ppExam.flush();
    }
  }

  function connect() {
    live = window.ppLive.connect("/ws/attempt/" + attempt + "/", {
      firstDelayMs: 250,
      // 4409: replaced by another device; 4403: not (or no longer) this student's attempt.
      finalCodes: [4409, 4403],
      onOpen: function () {
        setOnline(true);
        beat();
        beatTimer = window.setInterval(beat, heartbeatMs);
        armWatchdog();
      },
      onMessage: function (data) {
        armWatchdog();
        if (data.type === "hello") {
          heartbeatMs = (data.heartbeat_s || 3) * 1000;
          graceMs = (data.grace_s || 4) * 1000;
          window.clearInterval(beatTimer);
          beatTimer = window.setInterval(beat, heartbeatMs);
        } else if (data.type === "device.replaced") {
          replaced = true;
          live.stop();
          emit("pp:device-replaced", data);
        } else if (data.type === "attempt.changed") {
          emit("pp:attempt-changed", data);
        }
      },
      onClose: function (event) {
        clearTimers();
        setOnline(false);
        if (event.code === 4409 && !replaced) { emit("pp:device-replaced", {}); }
      }
    });
  }

  var api = {
    online: false,
    start: function (attemptId) {
      if (attempt) { return; }
      attempt = attemptId;
      connect();
    },
    stop: function () {
      clearTimers();
      if (live) { live.stop(1000); }
    }
  };
  window.ppPresence = api;

  // The browser knows first when the network is back: reconnect now rather than at the end of a
  // back-off that may have grown to 10 s during the outage.
  window.addEventListener("online", function () {
    if (live) { live.reconnect(); }
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
