// The waiting page polls until the proctor releases the test.
(function () {
  "use strict";
  var root = document.querySelector(".student-wait");
  function poll() {
    fetch(root.dataset.stateUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
      .then(function (res) {
        var body = res[1];
        if (res[0] === 409 || res[0] === 401) { window.location.reload(); return; }
        if (body.status === "submitted") { window.location.href = root.dataset.doneUrl; return; }
        if (body.released || body.status === "working" || body.status === "paused") {
          window.location.href = root.dataset.testUrl; return;
        }
        window.setTimeout(poll, 3000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
