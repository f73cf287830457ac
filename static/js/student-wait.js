/*
 * The student's waiting page: polls the attempt's state and opens the test when the proctor
 * releases it. A test with a listening part opens only after the headphone check: the student
 * plays a test sound (made in the browser, so it needs no download) and confirms hearing it.
 */
(function () {
  "use strict";

  var root = document.querySelector(".student-wait");
  if (!root) { return; }
  var checked = root.dataset.headphonesChecked !== "false";
  var status = document.getElementById("headphone-status");

  function poll() {
    fetch(root.dataset.stateUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
      .then(function (res) {
        var body = res[1];
        if (res[0] === 409 || res[0] === 401) { window.location.reload(); return; }
        if (body.status === "submitted") { window.location.href = root.dataset.doneUrl; return; }
        if (body.status === "working" || body.status === "paused") {
          window.location.href = root.dataset.testUrl; return;
        }
        if (body.released) {
          if (checked) { window.location.href = root.dataset.testUrl; return; }
          if (status) { status.textContent = status.dataset.waiting; }
        }
        window.setTimeout(poll, 3000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);

  var play = document.getElementById("headphone-play");
  var ok = document.getElementById("headphone-ok");
  if (!play || !ok) { return; }
  if (checked) { ok.disabled = true; play.disabled = false; }

  // Three short tones, left, both, right: a student hears whether both ears work.
  play.addEventListener("click", function () {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { status.textContent = status.dataset.noSound; return; }
    var context = new Context();
    [-1, 0, 1].forEach(function (pan, index) {
      var start = context.currentTime + index * 0.6;
      var tone = context.createOscillator();
      var gain = context.createGain();
      tone.frequency.value = 440 + index * 110;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.05);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.45);
      var node = gain;
      if (context.createStereoPanner) {
        var panner = context.createStereoPanner();
        panner.pan.value = pan;
        gain.connect(panner);
        node = panner;
      }
      tone.connect(gain);
      node.connect(context.destination);
      tone.start(start);
      tone.stop(start + 0.5);
    });
    window.setTimeout(function () { context.close(); }, 2500);
    if (!checked) { ok.disabled = false; }
  });

  ok.addEventListener("click", function () {
    fetch(root.dataset.headphonesUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: window.ppLive.headers({ "Accept": "application/json" })
    }).then(function (r) {
      if (!r.ok) { return; }
      checked = true;
      ok.disabled = true;
      status.textContent = status.dataset.ok;
      poll();
    });
  });
}());
