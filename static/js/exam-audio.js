/*
 * Listening parts in the exam client. Every sound of the test is loaded when the page opens and
 * kept in memory, so a network outage during the test does not stop it from playing. The sound
 * has no browser controls (no seeking, no replay): it plays from the start with the player's own
 * button, and only after the server has counted the play (delivery.listening), which refuses a
 * play beyond the item's limit.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("exam-config");
  if (!configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var strings = document.getElementById("exam-strings").dataset;
  var audioState = config.audio || {};

  var fill = window.ppLive.fill;

  function preload(audio, player, attempt) {
    var source = audio.getAttribute("src");
    fetch(source, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.blob() : Promise.reject(r.status); })
      .then(function (blob) {
        audio.src = URL.createObjectURL(blob);
        audio.preload = "auto";
        player.loaded = true;
        player.update();
      })
      .catch(function () {
        // Try again: the sound must be here before the connection might go.
        window.setTimeout(function () { preload(audio, player, attempt + 1); }, Math.min(15000, 1000 * Math.pow(2, attempt)));
      });
  }

  function Player(audio, itemId) {
    var state = audioState[itemId] || { limit: null, used: 0 };
    var box = document.createElement("div");
    box.className = "audio-player";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button audio-player__play";
    var left = document.createElement("span");
    left.className = "audio-player__left";
    var message = document.createElement("span");
    message.className = "audio-player__message";
    message.setAttribute("role", "status");
    box.appendChild(button);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(left);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(message);
    audio.parentNode.insertBefore(box, audio.nextSibling);
    audio.removeAttribute("controls");
    var self = this;
    this.loaded = false;
    var playing = false;

    this.update = function () {
      var remaining = state.limit === null || state.limit === undefined ? null : state.limit - state.used;
      left.textContent = remaining === null ? "" : fill(strings.playsLeft, { count: Math.max(0, remaining) });
      button.textContent = playing ? strings.playing : (self.loaded ? strings.play : strings.loading);
      button.disabled = !self.loaded || playing || remaining === 0;
      box.dataset.state = playing ? "playing" : (remaining === 0 ? "used" : (self.loaded ? "ready" : "loading"));
    };

    audio.addEventListener("ended", function () { playing = false; self.update(); });
    button.addEventListener("click", function () {
      if (playing || !self.loaded) { return; }
      message.textContent = "";
      fetch(config.playUrl.replace("00000000-0000-0000-0000-000000000000", itemId), {
        method: "POST",
        credentials: "same-origin",
        headers: window.ppLive.headers({ "Accept": "application/json" })
      }).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) {
            if (body.error === "no_plays_left") { state.used = state.limit; }
            message.textContent = body.detail || strings.playRefused;
            self.update();
            return;
          }
          state.used = body.used;
          playing = true;
          self.update();
          audio.currentTime = 0;
          var started = audio.play();
          if (started && started.catch) {
            started.catch(function () { playing = false; message.textContent = strings.playRefused; self.update(); });
          }
        });
      }).catch(function () { message.textContent = strings.playOffline; });
    });
    this.update();
  }

  document.querySelectorAll(".exam-item").forEach(function (section) {
    section.querySelectorAll("audio[src]").forEach(function (audio) {
      var player = new Player(audio, section.dataset.item);
      preload(audio, player, 0);
    });
  });
  // A sound stops when the student moves to another item.
  document.addEventListener("pp:item-shown", function () {
    document.querySelectorAll(".exam-item[hidden] audio").forEach(function (audio) {
      if (!audio.paused) { audio.pause(); audio.dispatchEvent(new Event("ended")); }
    });
  });
}());
