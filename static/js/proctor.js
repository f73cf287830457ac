/*
 * The proctor room, live. Rendered once by the server; afterwards each socket event updates only
 * the row it concerns and the counts, never the whole list. After a reconnect the room reloads
 * its state as JSON once, so nothing missed while offline stays wrong.
 */
(function () {
  "use strict";

  var root = document.getElementById("proctor-room");
  if (!root) { return; }
  var strings = document.getElementById("proctor-strings").dataset;
  var labels = JSON.parse(document.getElementById("proctor-statuses").textContent);
  // status -> the actions that apply (delivery.proctor_policy.ROW_ACTIONS); the server still decides.
  var rowActions = JSON.parse(document.getElementById("proctor-row-actions").textContent);
  // status -> place in the list (proctor_views.ROW_RANKS): who needs the proctor comes first.
  var rowRanks = JSON.parse(document.getElementById("proctor-row-ranks").textContent);
  var tbody = document.getElementById("room-rows");
  var endSection = document.getElementById("end-sitting");
  var sittingActions = document.getElementById("sitting-actions");
  var liveState = document.getElementById("live-state");
  var list = document.getElementById("notice-list");
  var errorNode = document.getElementById("action-error");
  var allSubmitted = document.getElementById("all-submitted");
  var rows = {};
  Array.prototype.forEach.call(document.querySelectorAll("#room-rows tr[data-attempt]"), function (tr) {
    rows[tr.dataset.attempt] = tr;
  });
  // The server's sets of attempt statuses (AttemptStatus.LOGGED_IN, FINISHED and OPEN), as
  // {status: true}: in the room, finished, on the clock.
  var sets = JSON.parse(document.getElementById("proctor-status-sets").textContent);
  function setOf(list) {
    var set = {};
    list.forEach(function (status) { set[status] = true; });
    return set;
  }
  var OPEN = setOf(sets.open);
  var DONE = setOf(sets.quiet);
  var TIMED = setOf(sets.timed);
  var fill = window.ppLive.fill;
  var duration = window.ppLive.duration;

  function hhmm(iso) {
    var d = new Date(iso);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function recount() {
    var counts = {}, total = 0, done = 0;
    Object.keys(rows).forEach(function (key) {
      var status = rows[key].dataset.status;
      counts[status] = (counts[status] || 0) + 1;
      total += 1;
      if (DONE[status]) { done += 1; }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-count-for]"), function (li) {
      li.querySelector("strong").textContent = counts[li.dataset.countFor] || 0;
    });
    allSubmitted.hidden = !(total > 0 && done === total && counts.submitted > 0);
  }

  function allowed(tr) {
    if (root.dataset.sittingStatus === "ended") { return []; }
    var released = tr.dataset.released === "true";
    var actions = (rowActions[tr.dataset.attemptStatus] || []).filter(function (action) {
      return !(action === "release" && released);
    });
    if (tr.dataset.locked === "true" && root.dataset.canUnlock === "true") { actions.push("unlock"); }
    return actions;
  }

  // Show only the buttons that apply. If the focused button disappears, keep the keyboard user
  // in the same row: on its first remaining button, or on the student's name.
  function showActions(tr) {
    var actions = allowed(tr);
    var focused = document.activeElement;
    var lostFocus = false;
    Array.prototype.forEach.call(tr.querySelectorAll("button[data-action]"), function (button) {
      var hide = actions.indexOf(button.dataset.action) < 0;
      if (hide && button === focused) { lostFocus = true; }
      button.hidden = hide;
    });
    tr.querySelector(".no-actions").hidden = actions.length > 0;
    if (lostFocus) {
      var next = tr.querySelector("button[data-action]:not([hidden])") || tr.querySelector("th");
      next.focus();
    }
  }

  function setSittingStatus(status) {
    if (!status) { return; }
    root.dataset.sittingStatus = status;
    sittingActions.hidden = status === "ended";
    if (endSection) { endSection.hidden = status === "ended"; }
    Object.keys(rows).forEach(function (key) { showActions(rows[key]); });
  }

  // A row the page does not have yet: a student placed in the sitting after it was loaded.
  function newRow(row) {
    var tr = document.getElementById("row-template").content.firstElementChild.cloneNode(true);
    tr.dataset.attempt = row.attempt;
    tr.dataset.attemptStatus = row.attempt_status;
    tr.dataset.released = row.released ? "true" : "false";
    tr.dataset.sortName = row.sort_name || "";
    tr.querySelector(".student-name").textContent = row.name;
    tr.querySelector(".student-username").textContent = row.username || "";
    var adjustments = tr.querySelector(".adjustments");
    if ((row.adjustments || []).length) {
      adjustments.textContent = "";
      row.adjustments.forEach(function (a) {
        var tag = document.createElement("span");
        tag.className = "tag tag--" + a.code;
        tag.textContent = a.label;
        adjustments.appendChild(tag);
        adjustments.appendChild(document.createTextNode(" "));
      });
    }
    rows[row.attempt] = tr;
    return tr;
  }

  // Time given back (delivery.outages): each outage of a working student and each device switch
  // is offered on the row with one button; the server gives each notice's time back once.
  var giveBackMin = +root.dataset.giveBackMin || 30;
  function addOffer(tr, offer) {
    var box = tr.querySelector(".give-back");
    if (!box || box.querySelector('[data-offer="' + offer.notice + '"]')) { return; }
    var minutes = Math.max(1, Math.ceil(offer.seconds / 60));
    var span = document.createElement("span");
    span.className = "give-back__offer";
    span.dataset.offer = offer.notice;
    span.textContent = fill(offer.kind === "device_switched" ? strings.switchTook : strings.offlineFor,
      { duration: duration(offer.seconds) }) + " ";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button--small";
    button.dataset.giveBack = offer.notice;
    button.textContent = fill(strings.giveBack, { minutes: minutes });
    span.appendChild(button);
    box.appendChild(span);
  }
  function removeOffer(notice) {
    var span = root.querySelector('.give-back__offer[data-offer="' + notice + '"]');
    if (!span) { return; }
    var tr = span.closest("tr");
    var hadFocus = span.contains(document.activeElement);
    span.remove();
    if (hadFocus && tr) { tr.querySelector("th").focus(); }
  }
  function syncOffers(tr, offers) {
    var box = tr.querySelector(".give-back");
    if (!box || !offers) { return; }
    var wanted = {};
    offers.forEach(function (offer) { wanted[offer.notice] = true; addOffer(tr, offer); });
    Array.prototype.forEach.call(box.querySelectorAll("[data-offer]"), function (span) {
      if (!wanted[span.dataset.offer]) { span.remove(); }
    });
  }
  function offerFromNotice(n) {
    var tr = rows[n.attempt];
    if (!tr) { return; }
    if (!TIMED[tr.dataset.attemptStatus]) { return; }
    var seconds = n.kind === "device_switched" ? n.gap_seconds : n.outage_seconds;
    if (seconds >= giveBackMin) { addOffer(tr, { notice: n.id, kind: n.kind, seconds: seconds }); }
  }
  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-give-back]");
    if (!button) { return; }
    var tr = button.closest("tr[data-attempt]");
    var name = tr.querySelector(".student-name").textContent.trim();
    button.disabled = true;
    post("give_back", { attempt: tr.dataset.attempt, notice: button.dataset.giveBack }).then(function (result) {
      button.disabled = false;
      if (result.ok) {
        removeOffer(button.dataset.giveBack);
        document.getElementById("action-status").textContent =
          fill(strings.givenBack, { name: name, minutes: result.minutes });
      }
    });
  });

  // Keep the list sorted: rank first (who needs the proctor on top), then the name.
  function rankOf(tr) {
    var status = tr.dataset.status;
    if (status === "not_started" && tr.dataset.released === "true") { return rowRanks.released_not_logged_in; }
    return rowRanks[status] === undefined ? 4 : rowRanks[status];
  }
  function before(a, b) {
    var ra = +a.dataset.rank, rb = +b.dataset.rank;
    if (ra !== rb) { return ra < rb; }
    return (a.dataset.sortName || "") < (b.dataset.sortName || "");
  }
  function place(tr) {
    var rank = rankOf(tr);
    if (String(rank) === tr.dataset.rank && tr.parentNode) { return; }
    tr.dataset.rank = rank;
    var focused = tr.contains(document.activeElement) ? document.activeElement : null;
    var next = null;
    Array.prototype.some.call(tbody.querySelectorAll("tr[data-attempt]"), function (other) {
      if (other !== tr && before(tr, other)) { next = other; return true; }
      return false;
    });
    if (next !== tr.nextElementSibling || !tr.parentNode) { tbody.insertBefore(tr, next); }
    if (focused && document.activeElement !== focused) { focused.focus(); }
  }

  // Time left on each working student's row, from the server's deadline, every 15 s.
  function remaining(tr) {
    var node = tr.querySelector(".remaining");
    var status = tr.dataset.attemptStatus;
    if (!tr.dataset.deadline || !TIMED[status]) { node.hidden = true; return; }
    if (status === "working") {
      tr.dataset.remaining = Math.max(0, Math.round((Date.parse(tr.dataset.deadline) - Date.now()) / 1000));
    }
    node.hidden = tr.dataset.remaining === "";
    node.querySelector(".remaining__value").textContent =
      fill(strings.minutes, { minutes: Math.ceil((+tr.dataset.remaining || 0) / 60) });
  }
  window.setInterval(function () {
    Object.keys(rows).forEach(function (key) { remaining(rows[key]); });
  }, 15000);

  var reloadTimer = null;
  function reloadSoon() {
    if (reloadTimer) { return; }
    reloadTimer = window.setTimeout(function () { reloadTimer = null; reload(); }, 300);
  }

  function setRow(attempt, attemptStatus, lostSince, released, locked, deadline) {
    var tr = rows[attempt];
    if (!tr) { if (attempt) { reloadSoon(); } return; }
    if (locked !== undefined && locked !== null) {
      tr.dataset.locked = locked ? "true" : "false";
      tr.querySelector(".locked-note").hidden = !locked;
    }
    if (attemptStatus) { tr.dataset.attemptStatus = attemptStatus; }
    if (released !== undefined && released !== null) { tr.dataset.released = released ? "true" : "false"; }
    showActions(tr);
    var status = tr.dataset.attemptStatus;
    if (lostSince !== undefined) { tr.dataset.lostSince = lostSince || ""; }
    if (tr.dataset.lostSince && OPEN[status]) { status = "lost"; }
    tr.dataset.status = status;
    tr.querySelector(".status").textContent = status === "not_started" && tr.dataset.released === "true"
      ? strings.releasedNotLoggedIn : (labels[status] || status);
    tr.querySelector(".since").textContent =
      status === "lost" ? strings.since + " " + hhmm(tr.dataset.lostSince) : "";
    if (deadline !== undefined) { tr.dataset.deadline = deadline || ""; }
    if (!OPEN[tr.dataset.attemptStatus]) { syncOffers(tr, []); }
    remaining(tr);
    place(tr);
  }

  var lastNotice = 0;
  Array.prototype.forEach.call(list.querySelectorAll("[data-notice]"), function (li) {
    lastNotice = Math.max(lastNotice, +li.dataset.notice || 0);
  });

  function addNotice(n) {
    if (n.id && list.querySelector('[data-notice="' + n.id + '"]')) { return; }
    if (n.id) { lastNotice = Math.max(lastNotice, +n.id); }
    // Sent live while the database was away, then again once stored: listed once.
    var key = n.drop ? n.kind + ":" + n.drop : "";
    var early = key && list.querySelector('[data-drop="' + key + '"]');
    if (early) {
      if (n.id) { early.dataset.notice = n.id; }
      return;
    }
    var empty = list.querySelector("[data-empty]");
    if (empty) { empty.remove(); }
    var li = document.createElement("li");
    if (n.id) { li.dataset.notice = n.id; }
    if (key) { li.dataset.drop = key; }
    li.className = "notice--" + n.kind;
    var time = document.createElement("time");
    time.dateTime = n.at;
    time.textContent = new Date(n.at).toLocaleTimeString();
    li.appendChild(time);
    // The sentence comes from the server, in this page's language (delivery.notices.event_text).
    li.appendChild(document.createTextNode(" " + (n.text || n.kind)));
    list.insertBefore(li, list.firstChild);
  }

  function onEvent(data) {
    if (data.type === "attempt.changed") {
      setRow(data.attempt, data.status, undefined, data.released, data.locked, data.deadline);
    } else if (data.type === "notice") {
      addNotice(data);
      if (data.kind === "connection_lost") { setRow(data.attempt, null, data.since || data.at); }
      if (data.kind === "connection_restored") { setRow(data.attempt, null, ""); }
      if (data.kind === "connection_restored" || data.kind === "device_switched") { offerFromNotice(data); }
    } else if (data.type === "time.given_back") {
      removeOffer(data.notice);
    } else if (data.type === "sitting.changed") {
      setSittingStatus(data.status);
      reload();
    } else {
      return;
    }
    recount();
  }

  // Catch up after the socket was away: every student's row (new ones inserted in the server's
  // order, ones no longer in the sitting removed) and the notices missed meanwhile.
  function reload() {
    var url = root.dataset.stateUrl + (lastNotice ? "?after=" + lastNotice : "");
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (state) {
        var tbody = document.getElementById("room-rows");
        var seen = {};
        var next = null;
        for (var i = state.rows.length - 1; i >= 0; i -= 1) {
          var row = state.rows[i];
          seen[row.attempt] = true;
          if (!rows[row.attempt]) { tbody.insertBefore(newRow(row), next); }
          next = rows[row.attempt];
        }
        Object.keys(rows).forEach(function (key) {
          if (!seen[key]) { rows[key].remove(); delete rows[key]; }
        });
        setSittingStatus(state.sitting_status);
        state.rows.forEach(function (row) {
          setRow(row.attempt, row.attempt_status, row.lost_since, row.released, row.locked, row.deadline);
          syncOffers(rows[row.attempt], row.give_back || []);
        });
        (state.notices || []).forEach(addNotice);
        recount();
      })
      .catch(function () { /* the next reconnect tries again */ });
  }

  function post(action, body, errorTarget) {
    var data = new FormData();
    var target = errorTarget || errorNode;
    // A list value (the attempts an end confirmation listed) is sent as repeated fields.
    Object.keys(body).forEach(function (k) {
      [].concat(body[k]).forEach(function (v) { data.append(k, v); });
    });
    errorNode.textContent = "";
    target.textContent = "";
    return fetch(root.dataset.actionUrl.replace("ACTION", action), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: window.ppLive.headers({ "Accept": "application/json" })
    }).then(function (r) {
      return r.json().then(function (json) {
        if (!r.ok) { target.textContent = json.error || r.statusText; }
        // Without the socket no event will follow: fetch the room's state instead.
        if (liveState.dataset.online !== "true") { reload(); }
        json.ok = r.ok;
        return json;
      });
    }).catch(function () { target.textContent = strings.offline; return { ok: false }; });
  }

  // Adding time and reopening ask for minutes and a reason in a small modal form: labelled
  // fields, Escape cancels, focus returns to the row afterwards.
  var dialog = document.getElementById("action-dialog");
  var dialogForm = document.getElementById("action-form");
  var minutesField = document.getElementById("action-minutes");
  var reasonField = document.getElementById("action-reason");
  var minutesHint = document.getElementById("action-minutes-hint");
  var dialogError = document.getElementById("action-dialog-error");
  var pending = null;

  function openDialog(action, tr, button) {
    var name = tr.querySelector(".student-name").textContent.trim();
    pending = { action: action, attempt: tr.dataset.attempt, button: button, tr: tr };
    var titles = { reopen: strings.reopenTitle, add_time: strings.addTimeTitle, submit: strings.submitTitle };
    document.getElementById("action-dialog-title").textContent = fill(titles[action], { name: name });
    // Submitting for a student asks only for the reason.
    document.getElementById("action-minutes-field").hidden = action === "submit";
    minutesHint.hidden = action === "submit";
    minutesField.value = action === "add_time" ? "10" : "";
    minutesField.required = action === "add_time";
    minutesHint.textContent = action === "reopen" ? minutesHint.dataset.reopen : minutesHint.dataset.add;
    reasonField.value = "";
    dialogError.textContent = "";
    dialog.showModal();
    (action === "add_time" ? minutesField : reasonField).focus();
  }

  function closeDialog() {
    if (dialog.open) { dialog.close(); }
  }

  dialog.addEventListener("close", function () {
    // The close event comes after the dialog has closed; Escape then Enter on the row's button
    // can reopen it first, and that new action must not be forgotten.
    if (!pending || dialog.open) { return; }
    var back = pending.button.hidden ? pending.tr.querySelector("button[data-action]:not([hidden])") : pending.button;
    (back || pending.tr.querySelector("th")).focus();
    pending = null;
  });
  document.getElementById("action-cancel").addEventListener("click", closeDialog);
  dialogForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!pending) { return; }
    if (!reasonField.value.trim()) { reasonField.focus(); dialogError.textContent = reasonField.validationMessage || strings.reasonRequired; return; }
    if (minutesField.required && !minutesField.value.trim()) { minutesField.focus(); dialogError.textContent = minutesField.validationMessage; return; }
    var body = { attempt: pending.attempt, reason: reasonField.value };
    if (minutesField.value.trim()) { body.minutes = minutesField.value.trim(); }
    post(pending.action, body, dialogError).then(function (result) {
      if (result.ok) { closeDialog(); }
      else if (result.code === "minutes_required") { minutesField.focus(); }
    });
  });

  // Ending the sitting: one confirmation that lists every test still open (working, paused,
  // connection lost, as the server counts them); confirming submits exactly those and ends it.
  var endDialog = document.getElementById("end-dialog");
  var endList = document.getElementById("end-open-list");
  var endError = document.getElementById("end-dialog-error");
  var endConfirm = document.getElementById("end-confirm");
  var endOpen = [];

  function showOpen(open) {
    endOpen = open || [];
    endList.textContent = "";
    endOpen.forEach(function (row) {
      var li = document.createElement("li");
      li.textContent = row.name + " – " + (labels[row.status] || row.status);
      endList.appendChild(li);
    });
    document.getElementById("end-open").hidden = endOpen.length === 0;
    endConfirm.textContent = endOpen.length ? endConfirm.dataset.submit : endConfirm.dataset.plain;
  }

  function openEndDialog() {
    endError.textContent = "";
    fetch(root.dataset.stateUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (state) {
        showOpen(state.open || []);
        endDialog.showModal();
        endConfirm.focus();
      })
      .catch(function () { errorNode.textContent = strings.offline; });
  }

  document.getElementById("end-cancel").addEventListener("click", function () { endDialog.close(); });
  document.getElementById("end-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = { confirmed: "1", submit: endOpen.map(function (row) { return row.attempt; }) };
    post("end", body, endError).then(function (result) {
      if (result.ok) { endDialog.close(); reload(); }
      else if (result.open) { showOpen(result.open); }
    });
  });

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) { return; }
    var action = button.dataset.action;
    var tr = button.closest("tr[data-attempt]");
    var body = {};
    if (tr) { body.attempt = tr.dataset.attempt; }
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) { return; }
    if (!tr && action === "end") {
      openEndDialog();
      return;
    }
    if (tr && (action === "add_time" || action === "reopen" || action === "submit")) {
      openDialog(action, tr, button);
      return;
    }
    post(action, body);
  });

  // After a reconnect, or a "resync" (the server's live feed was away while the socket stayed
  // open), the room reloads its state.
  window.ppLive.feed({
    path: root.dataset.socket,
    state: liveState,
    online: strings.online,
    offline: strings.offline,
    catchUp: reload,
    onEvent: function (data) {
      try { onEvent(data); } catch (e) { /* ignore a malformed event */ }
    }
  });
}());
