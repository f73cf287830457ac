/*
 * The exam client. Plain JavaScript, no framework.
 *
 * Never loses an answer: every change is written at once to localStorage (one key per attempt)
 * and sent to the server within 2 s while online. Each item carries its own sequence number; the
 * server keeps only the newest, and acknowledges after its commit. Anything not acknowledged is
 * re-sent when the connection returns. The local copy is removed only once a submit is confirmed
 * and everything has been acknowledged.
 *
 * The timer shows the server's deadline. Screen readers hear the 10- and 1-minute warnings once,
 * through a polite live region that is updated only at those moments.
 *
 * Hooks for the presence socket (static/js/presence.js): it may call window.ppExam.flush() when
 * the socket reconnects, and dispatch "pp:device-replaced" or "pp:attempt-changed" on document.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("exam-config");
  if (!configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var strings = document.getElementById("exam-strings").dataset;
  var storageKey = "pp-attempt-" + config.attempt;
  var form = document.getElementById("exam-form");
  // Answers are saved as they change; the form itself is never sent.
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  var sections = Array.prototype.slice.call(document.querySelectorAll(".exam-item"));
  var overview = document.getElementById("exam-overview");
  var timerNode = document.getElementById("exam-timer");
  var announcer = document.getElementById("exam-announcer");
  var savedNode = document.getElementById("exam-saved");
  var offlineNode = document.getElementById("exam-offline");
  var pausedNode = document.getElementById("exam-paused");
  var refusedNode = document.getElementById("exam-refused");
  var dialog = document.getElementById("exam-confirm");

  var SEND_DELAY_MS = 600;       // well inside the 2 s promise
  var STATE_POLL_MS = 10000;
  var state = config.state;
  var offsetMs = Date.parse(state.server_time) - Date.now();
  var current = 0;
  var stopped = "";              // a refusal reason: stop sending, keep everything locally
  var sending = null;             // the send under way: a submit waits for it, never races it
  var sendTimer = null;
  var retryMs = 1000;

  // --- local storage: {items: {id: {content, seq, flagged, at, base}}, acked: {id: seq},
  //     sent: {id: [{seq, c}]}, warned: {}} ------------------------------------------------------
  // `base` is the server's sequence the local edit was made on; `sent` the saves of this device
  // not yet acknowledged (sequence and content), so its own save is recognised on the server.
  function loadLocal() {
    try {
      return JSON.parse(window.localStorage.getItem(storageKey)) || null;
    } catch (e) { return null; }
  }
  var store = loadLocal() || { items: {}, acked: {}, warned: {} };
  store.warned = store.warned || {};
  store.sent = store.sent || {};
  function persist() {
    try { window.localStorage.setItem(storageKey, JSON.stringify(store)); } catch (e) { /* full */ }
  }

  // Merge what the server holds with the local buffer, item by item. The local copy is kept only
  // if it is newer by sequence AND was made on what the server still holds: when the server moved
  // past the local edit's base, another device (this attempt continued elsewhere) wrote it, and an
  // old buffer must not overwrite answers the student gave since. This device's own save that
  // reached the server without its acknowledgement does not count as another device's.
  function ownSave(id, srv) {
    var text = JSON.stringify(srv.content);
    return (store.sent[id] || []).some(function (s) { return s.seq === srv.seq && s.c === text; });
  }
  Object.keys(config.server).forEach(function (id) {
    var srv = config.server[id];
    var local = store.items[id];
    var base = local ? (local.base !== undefined ? local.base : (store.acked[id] || 0)) : 0;
    var serverWins = !local || local.seq <= srv.seq || (srv.seq > base && !ownSave(id, srv));
    if (serverWins) {
      store.items[id] = {
        content: srv.content, seq: srv.seq, flagged: srv.flagged, at: null, base: srv.seq
      };
      delete store.sent[id];
    }
    store.acked[id] = Math.max(store.acked[id] || 0, srv.seq);
  });
  persist();

  function serverNow() { return Date.now() + offsetMs; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // --- reading and writing answers in the page -------------------------------------------------
  function sectionFor(id) {
    return document.querySelector('.exam-item[data-item="' + id + '"]');
  }
  function readAnswer(section) {
    var kind = section.dataset.kind;
    var name = "answer-" + section.dataset.item;
    if (kind === "single_choice" || kind === "multiple_choice") {
      var picked = Array.prototype.slice.call(form.querySelectorAll('[name="' + name + '"]'))
        .filter(function (el) { return el.checked; }).map(function (el) { return el.value; });
      return picked.length ? picked : null;
    }
    var field = form.querySelector('[name="' + name + '"]');
    return field.value === "" ? null : field.value;
  }
  function writeAnswer(section, content) {
    var name = "answer-" + section.dataset.item;
    var kind = section.dataset.kind;
    if (kind === "single_choice" || kind === "multiple_choice") {
      var chosen = Array.isArray(content) ? content : [];
      form.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
        el.checked = chosen.indexOf(el.value) !== -1;
      });
    } else {
      form.querySelector('[name="' + name + '"]').value = content == null ? "" : String(content);
    }
  }
  function isAnswered(id) {
    var entry = store.items[id];
    if (!entry || entry.content == null) { return false; }
    if (Array.isArray(entry.content)) { return entry.content.length > 0; }
    return String(entry.content).trim() !== "";
  }
  function isFlagged(id) { return !!(store.items[id] && store.items[id].flagged); }

  sections.forEach(function (section) {
    var id = section.dataset.item;
    var entry = store.items[id];
    if (entry) {
      writeAnswer(section, entry.content);
      section.querySelector(".exam-flag__box").checked = !!entry.flagged;
    }
  });

  function record(section) {
    var id = section.dataset.item;
    var prev = store.items[id] || { seq: 0 };
    var acked = store.acked[id] || 0;
    var seq = Math.max(prev.seq || 0, acked) + 1;
    // Edits not yet acknowledged keep the base of the first of them.
    var base = prev.seq > acked && prev.base !== undefined ? prev.base : acked;
    store.items[id] = {
      content: readAnswer(section),
      flagged: section.querySelector(".exam-flag__box").checked,
      seq: seq,
      at: new Date(serverNow()).toISOString(),
      base: base
    };
    persist();
    refreshNav();
    scheduleSend();
  }
  form.addEventListener("input", function (event) {
    var section = event.target.closest(".exam-item");
    if (section) { record(section); }
  });
  form.addEventListener("change", function (event) {
    var section = event.target.closest(".exam-item");
    if (section) { record(section); }
  });

  // --- sending --------------------------------------------------------------------------------
  function pending() {
    return Object.keys(store.items).filter(function (id) {
      return store.items[id].seq > (store.acked[id] || 0);
    });
  }
  function scheduleSend(delay) {
    if (stopped) { return; }
    if (sendTimer) { return; }
    sendTimer = window.setTimeout(function () { sendTimer = null; flush(); },
      delay === undefined ? SEND_DELAY_MS : delay);
  }
  function showSaved() {
    var d = new Date();
    savedNode.textContent = savedNode.dataset.label + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  function setOffline(offline) { offlineNode.hidden = !offline; }
  function refuse(reason) {
    stopped = reason;
    var text = {
      device_replaced: strings.deviceReplaced,
      submitted: strings.submitted,
      deadline_passed: strings.deadlinePassed
    }[reason] || strings.submitted;
    refusedNode.textContent = text;
    refusedNode.hidden = false;
    if (reason === "device_replaced") { form.setAttribute("inert", ""); }
  }

  function flush() {
    if (stopped) { return Promise.resolve(); }
    // After the send under way, once more for what was typed meanwhile (at most one more send).
    if (sending) { return sending.then(function () { return flush(); }); }
    var ids = pending();
    if (!ids.length) { return Promise.resolve(); }
    var saves = ids.map(function (id) {
      var e = store.items[id];
      var sent = (store.sent[id] || []).filter(function (s) { return s.seq !== e.seq; });
      sent.push({ seq: e.seq, c: JSON.stringify(e.content) });
      store.sent[id] = sent.slice(-10);
      return { item: id, seq: e.seq, content: e.content, flagged: !!e.flagged, client_saved_at: e.at };
    });
    persist();
    sending = fetch(config.saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Device-Token": config.device },
      body: JSON.stringify({ saves: saves })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        sending = null;
        if (response.status >= 500) { throw new Error("server " + response.status); }
        (body.acked || []).forEach(function (a) {
          store.acked[a.item] = Math.max(store.acked[a.item] || 0, a.seq);
          var left = (store.sent[a.item] || []).filter(function (s) { return s.seq > store.acked[a.item]; });
          if (left.length) { store.sent[a.item] = left; } else { delete store.sent[a.item]; }
        });
        persist();
        setOffline(false);
        retryMs = 1000;
        if (response.ok) {
          showSaved();
          refreshNav();
          if (pending().length) { scheduleSend(0); }
        } else if (response.status === 409) {
          refuse(body.error);
        }
      });
    }).catch(function () {
      sending = null;
      setOffline(true);
      retryMs = Math.min(retryMs * 2, 8000);
      scheduleSend(retryMs);
    });
    return sending;
  }
  window.addEventListener("online", function () { scheduleSend(0); });
  window.addEventListener("offline", function () { setOffline(true); });

  // --- navigation, flags, overview ---------------------------------------------------------------
  // The item shown is remembered with the answers, so a reload or a change of language opens
  // the same item again instead of the first.
  function show(index, quiet) {
    if (index === "overview") {
      sections.forEach(function (s) { s.hidden = true; });
      overview.hidden = false;
      current = sections.length;
      refreshOverview();
      if (!quiet) { overview.querySelector("h2").focus(); }
    } else {
      current = Math.max(0, Math.min(sections.length - 1, index));
      overview.hidden = true;
      sections.forEach(function (s, i) { s.hidden = i !== current; });
      if (!quiet) { sections[current].querySelector("h2").focus(); }
    }
    store.position = current === sections.length ? "overview" : current;
    persist();
    document.dispatchEvent(new CustomEvent("pp:item-shown", { detail: { index: current } }));
    document.querySelectorAll(".exam-nav [data-goto]").forEach(function (b) {
      var here = (b.dataset.goto === "overview") ? current === sections.length : +b.dataset.goto === current;
      if (here) { b.setAttribute("aria-current", "step"); } else { b.removeAttribute("aria-current"); }
    });
  }
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-goto]");
    if (!target) { return; }
    show(target.dataset.goto === "overview" ? "overview" : +target.dataset.goto);
  });
  document.getElementById("exam-prev").addEventListener("click", function () {
    show(current - 1);
  });
  document.getElementById("exam-next").addEventListener("click", function () {
    if (current >= sections.length - 1) { show("overview"); } else { show(current + 1); }
  });

  function refreshNav() {
    document.querySelectorAll(".exam-nav__item").forEach(function (button) {
      var id = button.dataset.item;
      var answered = isAnswered(id);
      var flagged = isFlagged(id);
      button.classList.toggle("is-answered", answered);
      button.classList.toggle("is-flagged", flagged);
      button.querySelector(".visually-hidden").textContent =
        ", " + (answered ? strings.answered : strings.unanswered) + (flagged ? ", " + strings.flagged : "");
    });
  }
  function summary() {
    var ids = sections.map(function (s) { return s.dataset.item; });
    var answered = ids.filter(isAnswered).length;
    var flagged = ids.filter(isFlagged).length;
    return strings.summary.replace("%(answered)s", answered).replace("%(total)s", ids.length)
      .replace("%(flagged)s", flagged);
  }
  function refreshOverview() {
    document.getElementById("overview-summary").textContent = summary();
    overview.querySelectorAll("tbody tr").forEach(function (row) {
      var a = row.querySelector(".overview-answered");
      var f = row.querySelector(".overview-flagged");
      var answered = isAnswered(row.dataset.item);
      a.textContent = answered ? a.dataset.yes : a.dataset.no;
      row.classList.toggle("is-unanswered", !answered);
      f.textContent = isFlagged(row.dataset.item) ? f.dataset.yes : f.dataset.no;
    });
  }
  refreshNav();
  if (store.position !== undefined && store.position !== 0) {
    show(store.position === "overview" ? "overview" : +store.position || 0, true);
  }

  // --- submit with confirmation ----------------------------------------------------------------
  var finished = false;
  function finish() {
    // Once: the submit's own answer and the socket's "submitted" event both lead here, and a
    // second navigation would cancel the first.
    if (finished) { return; }
    finished = true;
    if (!pending().length) {
      try { window.localStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
    }
    window.location.href = config.doneUrl;
  }
  function submit() {
    var error = document.getElementById("confirm-error");
    error.textContent = "";
    return flush().then(function () {
      if (pending().length && !stopped) { error.textContent = strings.unsent; return; }
      return fetch(config.submitUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: window.ppLive.headers({ "Accept": "application/json" })
      }).then(function (response) {
        if (response.ok) { finish(); return; }
        return response.json().then(function (body) {
          if (body.error === "device_replaced") { refuse("device_replaced"); }
          error.textContent = body.detail || strings.submitFailed;
        });
      });
    }).catch(function () { error.textContent = strings.submitFailed; });
  }
  document.getElementById("exam-submit").addEventListener("click", function () {
    flush();
    document.getElementById("confirm-summary").textContent = summary();
    document.getElementById("confirm-error").textContent = "";
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
  document.getElementById("confirm-cancel").addEventListener("click", function () { dialog.close(); });
  document.getElementById("confirm-submit").addEventListener("click", submit);

  // --- the timer ----------------------------------------------------------------------------------
  function announce(key, text) {
    if (store.warned[key]) { return; }
    store.warned[key] = true;
    persist();
    announcer.textContent = text;  // the only moments this region changes
  }
  var timeUpHandled = false;
  function tick() {
    if (!state.deadline) { timerNode.textContent = "--:--"; return; }
    var remaining = state.paused ? state.remaining_seconds
      : Math.max(0, Math.round((Date.parse(state.deadline) - serverNow()) / 1000));
    var h = Math.floor(remaining / 3600);
    var m = Math.floor((remaining % 3600) / 60);
    var s = remaining % 60;
    timerNode.textContent = (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s);
    timerNode.parentNode.classList.toggle("is-low", remaining <= 600);
    if (state.paused) { return; }
    if (remaining <= 600 && remaining > 60) { announce("ten", strings.ten); }
    if (remaining <= 60 && remaining > 0) { announce("one", strings.one); }
    if (remaining === 0 && !timeUpHandled) { timeUp(); }
  }
  function timeUp() {
    timeUpHandled = true;
    // Ask the server first: time may just have been added.
    pollState().then(function () {
      var left = Date.parse(state.deadline) - serverNow();
      if (state.paused || left > 1000) { timeUpHandled = false; return; }
      announcer.textContent = strings.up;
      timedOut = true;
      form.setAttribute("inert", "");
      flush().then(function () {
        if (!pending().length) { submit(); }
      });
    });
  }
  // A proctor reopened the test after it was submitted or its time ran out: load the page again
  // (what the server holds merges with this device's copy as on any load) and say so there.
  // Only a client that gave up (submitted, refused, or its time ran out) reloads, and only for a
  // deadline in the future: between the deadline and the automatic submit the attempt is still
  // "working" with its time up, and that is no reason to load the page again.
  var reopening = false;
  var timedOut = false;
  function resumeIfReopened(status, deadline) {
    if (status !== "working" || reopening || !deadline) { return; }
    if (stopped === "device_replaced") { return; }
    if (!(stopped || finished || timedOut)) { return; }
    if (Date.parse(deadline) - serverNow() <= 1000) { return; }
    reopening = true;
    window.location.replace(window.location.pathname + "?reopened=1");
  }
  function applyState(next) {
    offsetMs = Date.parse(next.server_time) - Date.now();
    resumeIfReopened(next.status, next.deadline);
    var wasPaused = state.paused;
    state = next;
    pausedNode.hidden = !next.paused;
    if (next.paused) { form.setAttribute("inert", ""); }
    else if (wasPaused && !stopped) { form.removeAttribute("inert"); }
    if (next.status === "submitted") { finish(); }
    tick();
  }
  function pollState() {
    return fetch(config.stateUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status < 500) { setOffline(false); }  // the server answered
        if (response.status === 409) { refuse("device_replaced"); return; }
        if (!response.ok) { return; }
        return response.json().then(applyState);
      }).catch(function () { setOffline(true); });
  }
  if (window.location.search.indexOf("reopened=1") >= 0 && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);  // say it once
  }
  applyState(state);
  window.setInterval(tick, 1000);
  window.setInterval(function () { pollState(); if (pending().length) { scheduleSend(0); } }, STATE_POLL_MS);

  document.addEventListener("pp:device-replaced", function () { refuse("device_replaced"); });
  // The presence socket is open again: the server is reachable, whether or not anything is unsent.
  document.addEventListener("pp:online", function () { setOffline(false); });
  document.addEventListener("pp:attempt-changed", function (event) {
    if (event.detail) { resumeIfReopened(event.detail.status, event.detail.deadline); }
    pollState();
  });
  window.ppExam = { flush: flush, attempt: config.attempt, pending: pending };
  scheduleSend(0);
})();
