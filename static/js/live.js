/*
 * What every live page shares: the proctor room (proctor.js), the IT page (it.js) and the exam
 * client (presence.js, exam-client.js, exam-audio.js). Plain JavaScript; load it before them.
 *
 *   ppLive.connect(path, options)  a WebSocket to `path` on this host that reconnects whenever
 *       it closes, after a back-off that doubles from options.firstDelayMs (500 ms) up to 10 s,
 *       with jitter (half of it to all of it), and starts again from the shortest once a socket
 *       opens. A deploy closes sockets with 1012 and a database outage with 1013: both are such
 *       a close after an open, so the page is back within the shortest delay. Codes in
 *       options.finalCodes (default [4403], refused) end it. Options: onOpen(reconnected),
 *       onMessage(data) (parsed JSON; anything else is ignored), onClose(event).
 *       Returns {send(text), close(), reconnect(), stop(code)}: close() drops the socket and
 *       reconnects (a socket gone silent), reconnect() opens at once if none is open (the
 *       network is back), stop(code) ends it (closing the socket when a code is given).
 *   ppLive.feed(options)  a staff page's feed: connect() plus the "Live"/"Reconnecting" state
 *       (options.state, a node with data-online; options.online/offline, its texts) and
 *       options.catchUp(), called after a reconnect and when the server says "resync" (its
 *       channel layer, Redis, was away while the socket stayed open). Other events go to
 *       options.onEvent(data).
 *   ppLive.fill(template, values)  "{name} …" filled from values; missing ones are empty.
 *   ppLive.duration(seconds)       "2 min 5 s", "40 s".
 *   ppLive.csrf()                  the CSRF token: the cookie, else the page's hx-headers.
 *   ppLive.headers(extra)          fetch headers with the CSRF token (htmx sends it by itself
 *                                  from hx-headers on <body>, base.html).
 */
(function () {
  "use strict";

  function connect(path, options) {
    options = options || {};
    var firstDelay = options.firstDelayMs || 500;
    var maxDelay = options.maxDelayMs || 10000;
    var finalCodes = options.finalCodes || [4403];
    var retries = 0;
    var everOpen = false;
    var stopped = false;
    var socket = null;
    var timer = null;

    function url() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      return scheme + window.location.host + path;
    }

    function schedule() {
      if (stopped) { return; }
      var wait = Math.min(maxDelay, firstDelay * Math.pow(2, retries));
      retries += 1;
      timer = window.setTimeout(open, wait / 2 + Math.random() * wait / 2);
    }

    function open() {
      timer = null;
      if (stopped) { return; }
      var current;
      try {
        current = new WebSocket(url());
      } catch (e) {
        schedule();
        return;
      }
      socket = current;
      current.onopen = function () {
        retries = 0;
        var reconnected = everOpen;
        everOpen = true;
        if (options.onOpen) { options.onOpen(reconnected); }
      };
      current.onmessage = function (message) {
        var data;
        try { data = JSON.parse(message.data); } catch (e) { return; }
        if (options.onMessage) { options.onMessage(data); }
      };
      current.onclose = function (event) {
        if (socket === current) { socket = null; }
        if (finalCodes.indexOf(event.code) >= 0) { stopped = true; }
        if (options.onClose) { options.onClose(event); }
        schedule();
      };
    }

    open();
    return {
      send: function (text) {
        if (socket && socket.readyState === WebSocket.OPEN) { socket.send(text); return true; }
        return false;
      },
      close: function () {
        if (socket) { try { socket.close(); } catch (e) { /* already closing */ } }
      },
      reconnect: function () {
        if (stopped || socket) { return; }
        window.clearTimeout(timer);
        retries = 0;
        open();
      },
      stop: function (code) {
        stopped = true;
        window.clearTimeout(timer);
        if (socket && code) { socket.close(code); }
      }
    };
  }

  function feed(options) {
    function show(online) {
      options.state.dataset.online = online ? "true" : "false";
      options.state.textContent = online ? options.online : options.offline;
    }
    return connect(options.path, {
      onOpen: function (reconnected) {
        show(true);
        if (reconnected) { options.catchUp(); }
      },
      onMessage: function (data) {
        if (data.type === "resync") { options.catchUp(); return; }
        options.onEvent(data);
      },
      onClose: function () { show(false); }
    });
  }

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

  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function headers(extra) {
    var all = { "X-CSRFToken": csrf() };
    Object.keys(extra || {}).forEach(function (key) { all[key] = extra[key]; });
    return all;
  }

  window.ppLive = {
    connect: connect,
    feed: feed,
    fill: fill,
    duration: duration,
    csrf: csrf,
    headers: headers
  };
}());
