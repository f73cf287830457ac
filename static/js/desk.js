/*
 * The assessor's desk: keyboard first, saved without a page reload.
 * Digits give points (per criterion, moving on to the next), Enter saves through the API,
 * J/→ and K/← move between responses, E goes to the points field (for 10 points or more),
 * C to the comment, F flags, P opens the projector view, ? lists the keys.
 * The page works without this file: the form posts and the links move.
 */
(function () {
  "use strict";

  var root = document.getElementById("desk");
  if (!root) { return; }
  var data = root.dataset;

  function go(url) { if (url) { window.location.assign(url); } }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && target.type !== "checkbox" && target.type !== "radio");
  }

  // The projector window follows the desk: each response the assessor opens is shown there too
  // (same browser, e.g. a second screen or a projector), so the group sees what is being scored.
  var channel = window.BroadcastChannel ? new BroadcastChannel("provplattform-desk") : null;

  if (data.projectorMode) {
    if (channel) {
      channel.onmessage = function (message) {
        var target = message.data && message.data.projector;
        if (target && target.indexOf("/projector/") > 0 &&
            new URL(target, window.location.href).pathname !== window.location.pathname) {
          window.location.assign(target);
        }
      };
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.key === "j" || event.key === "ArrowRight") { go(data.next); }
      if (event.key === "k" || event.key === "ArrowLeft") { go(data.previous); }
    });
    return;
  }

  if (channel) { channel.postMessage({ projector: data.projector }); }

  var form = document.getElementById("desk-form");
  var status = document.getElementById("desk-status");
  var version = document.getElementById("desk-version");
  var comment = document.getElementById("desk-comment");
  var total = document.getElementById("desk-total");
  var single = document.getElementById("desk-points");
  var criteria = Array.prototype.slice.call(document.querySelectorAll(".desk-criterion"));
  var help = document.getElementById("desk-help");
  var flagTag = document.getElementById("desk-flag-tag");
  var flagged = flagTag && !flagTag.hidden;
  var activeCriterion = 0;

  function say(text, kind) {
    status.textContent = text;
    status.className = "desk-status" + (kind ? " desk-status--" + kind : "");
  }

  function recount() {
    if (!total) { return; }
    var sum = 0, complete = true;
    criteria.forEach(function (input) {
      if (input.value === "") { complete = false; } else { sum += parseInt(input.value, 10) || 0; }
    });
    total.textContent = complete ? String(sum) : "–";
  }

  function showScore(score) {
    if (!score) { return; }
    version.value = score.version;
    if (single) { single.value = score.points === null ? "" : score.points; }
    criteria.forEach(function (input) {
      var value = (score.criteria_points || {})[input.dataset.key];
      input.value = value === undefined || value === null ? "" : value;
    });
    comment.value = score.comment || "";
    recount();
  }

  function payload() {
    var body = { version: parseInt(version.value, 10), comment: comment.value };
    if (criteria.length) {
      var parts = {}, any = false;
      criteria.forEach(function (input) {
        if (input.value !== "") { parts[input.dataset.key] = parseInt(input.value, 10); any = true; }
      });
      body.criteria_points = any ? parts : null;
      body.points = null;
    } else {
      body.points = single.value === "" ? null : parseInt(single.value, 10);
    }
    return body;
  }

  var saving = false;

  function save() {
    if (saving) { return; }  // one save at a time: a second would carry the same version
    saving = true;
    say(data.msgSaving);
    return fetch(data.api, {
      method: "PUT",
      credentials: "same-origin",
      headers: window.ppLive.headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(payload())
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          showScore(body);
          say(data.msgSaved, "ok");
          if (body.progress) {
            var progress = document.getElementById("desk-progress");
            if (progress && body.progress_text) { progress.textContent = body.progress_text; }
          }
        } else if (response.status === 409) {
          showScore(body.current);
          say(data.msgConflict, "error");
        } else {
          say(body.detail || data.msgFailed, "error");
        }
      });
    }).catch(function () { say(data.msgFailed, "error"); })
      .then(function () { saving = false; });
  }

  function toggleFlag() {
    fetch(data.flagApi, {
      method: "POST",
      credentials: "same-origin",
      headers: window.ppLive.headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ flagged: !flagged })
    }).then(function (response) {
      if (!response.ok) { say(data.msgFailed, "error"); return; }
      flagged = !flagged;
      if (flagTag) { flagTag.hidden = !flagged; }
      say(flagged ? data.msgFlagged : data.msgUnflagged, "ok");
    }).catch(function () { say(data.msgFailed, "error"); });
  }

  function digit(value) {
    var number = parseInt(value, 10);
    if (criteria.length) {
      var input = criteria[activeCriterion];
      if (number > parseInt(input.max, 10)) { return; }
      input.value = number;
      activeCriterion = (activeCriterion + 1) % criteria.length;
      criteria.forEach(function (c, i) { c.classList.toggle("desk-criterion--active", i === activeCriterion); });
      recount();
    } else {
      if (number > parseInt(data.max, 10)) { return; }
      single.value = number;
    }
  }

  criteria.forEach(function (input, index) {
    input.addEventListener("focus", function () { activeCriterion = index; });
    input.addEventListener("input", recount);
  });
  if (criteria.length) { criteria[0].classList.add("desk-criterion--active"); }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save();
  });

  var openHelp = document.getElementById("desk-help-open");
  if (openHelp) { openHelp.addEventListener("click", function () { help.showModal(); }); }
  var flagForm = document.getElementById("desk-flag-form");
  if (flagForm) {
    flagForm.addEventListener("submit", function (event) { event.preventDefault(); toggleFlag(); });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (help.open) { return; }  // the dialog handles Esc itself
    var target = event.target;
    if (event.key === "Escape" && typing(target)) { target.blur(); return; }
    if (target === comment) { return; }  // the comment takes every other key
    var tag = target && target.tagName;
    if (event.key === "Enter") {
      if (tag === "A" || tag === "BUTTON" || tag === "SUMMARY") { return; }  // their own action
      event.preventDefault();
      save();
      return;
    }
    if (typing(target)) { return; }  // a points field takes digits as typed (10 and more too)
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      digit(event.key);
      return;
    }
    switch (event.key) {
      case "j": case "J": case "ArrowRight": go(data.next); break;
      case "k": case "K": case "ArrowLeft": go(data.previous); break;
      case "?": help.showModal(); break;
      case "c": case "C": event.preventDefault(); comment.focus(); break;
      case "e": case "E": event.preventDefault(); (single || criteria[activeCriterion]).focus(); break;
      case "f": case "F": toggleFlag(); break;
      case "p": case "P": window.open(data.projector, "provplattform-projector"); break;
      case "q": case "Q": go(data.queue); break;
      default: return;
    }
  });
}());
