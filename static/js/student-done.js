// The page after a submit.
// The submit is confirmed: the local copy goes, unless it holds answers the server never took.
(function () {
  var key = "pp-attempt-" + document.querySelector(".student-done").dataset.attempt;
  try {
    var store = JSON.parse(window.localStorage.getItem(key));
    if (!store) { return; }
    var unsent = Object.keys(store.items || {}).some(function (id) {
      return store.items[id].seq > ((store.acked || {})[id] || 0);
    });
    if (!unsent) { window.localStorage.removeItem(key); }
  } catch (e) { /* storage unavailable */ }
})();
// A proctor may reopen the test: go back to it at once.
document.addEventListener("pp:attempt-changed", function (event) {
  if (event.detail && event.detail.status === "working") {
    window.location.replace(document.querySelector(".student-done").dataset.testUrl + "?reopened=1");
  }
});
