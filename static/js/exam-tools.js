/*
 * The exam client's tools. The server renders only the tools this student may use (the subtest's
 * own plus those of the student's adjustment); this script makes them work:
 *   calculator     - a small calculator (+ − × ÷, brackets, decimal comma); no eval
 *   enlarged_text  - larger text for the whole test, remembered on this device
 *   text_to_speech - reads the item shown with the browser's speech synthesis, in the language
 *                    of the content (its `lang`), never the interface's
 *   spell_check    - turns the browser's spell check on and off in the answer fields (off unless
 *                    this tool is offered)
 *   dictionary     - the word list the test definition provides
 */
(function () {
  "use strict";

  var bar = document.getElementById("exam-tools");
  if (!bar) { return; }
  var strings = document.getElementById("exam-strings").dataset;
  var note = document.getElementById("exam-tools-note");
  var exam = document.getElementById("exam");
  // Per attempt: on a shared classroom device the next student starts with the tools off.
  var prefsKey = "pp-exam-tools-" + JSON.parse(document.getElementById("exam-config").textContent).attempt;

  function prefs() {
    try { return JSON.parse(window.localStorage.getItem(prefsKey)) || {}; } catch (e) { return {}; }
  }
  function savePrefs(next) {
    try { window.localStorage.setItem(prefsKey, JSON.stringify(next)); } catch (e) { /* full */ }
  }
  function button(tool) { return bar.querySelector('[data-tool="' + tool + '"]'); }
  function visibleItem() {
    return document.querySelector(".exam-item:not([hidden])");
  }

  // --- enlarged text --------------------------------------------------------------------------
  function setEnlarged(on) {
    exam.classList.toggle("exam--enlarged", on);
    var b = button("enlarged_text");
    if (b) { b.setAttribute("aria-pressed", on ? "true" : "false"); }
  }
  if (button("enlarged_text")) { setEnlarged(!!prefs().enlarged); }

  // --- spell check ----------------------------------------------------------------------------
  function setSpellcheck(on) {
    document.querySelectorAll("#exam-form textarea, #exam-form input[type=text]").forEach(function (field) {
      if (field.inputMode === "decimal") { return; }
      field.spellcheck = on;
    });
    var b = button("spell_check");
    if (b) { b.setAttribute("aria-pressed", on ? "true" : "false"); }
  }
  if (button("spell_check")) { setSpellcheck(!!prefs().spellcheck); }

  // --- text to speech -------------------------------------------------------------------------
  var synth = window.speechSynthesis;
  function voiceFor(lang) {
    if (!synth) { return null; }
    var wanted = (lang || "").toLowerCase();
    var base = wanted.split("-")[0];
    var voices = synth.getVoices() || [];
    // Norwegian: a Bokmål text may be read by a voice tagged "no" and the other way round.
    var family = base === "nb" || base === "nn" || base === "no" ? ["nb", "no", "nn"] : [base];
    return voices.filter(function (v) { return v.lang.toLowerCase() === wanted; })[0] ||
      voices.filter(function (v) { return family.indexOf(v.lang.toLowerCase().split(/[-_]/)[0]) >= 0; })[0] ||
      null;
  }
  // Each stretch of text is read in its own language: an element with a `lang` of its own (an
  // English quotation in a Swedish item) gets an utterance in that language.
  function utterances(root) {
    var parts = [];
    function walk(node, lang) {
      if (node.nodeType === 3) {
        var text = node.textContent.replace(/\s+/g, " ");
        if (!text.trim()) { return; }
        var last = parts[parts.length - 1];
        if (last && last.lang === lang) { last.text += text; } else { parts.push({ lang: lang, text: text }); }
        return;
      }
      if (node.nodeType !== 1 || node.hidden || node.classList.contains("visually-hidden")) { return; }
      if (/^(BUTTON|SCRIPT|STYLE|AUDIO|INPUT|TEXTAREA|SELECT)$/.test(node.tagName)) { return; }
      var own = node.getAttribute("lang");
      Array.prototype.forEach.call(node.childNodes, function (child) { walk(child, own || lang); });
    }
    var content = root.querySelector(".exam-item__content");
    if (content) { walk(content, content.closest("[lang]").getAttribute("lang")); }
    root.querySelectorAll(".exam-choice span[lang]").forEach(function (span) {
      walk(span, span.getAttribute("lang"));
    });
    return parts;
  }
  function stopSpeech() {
    if (synth) { synth.cancel(); }
    var stop = button("stop_speech");
    if (stop) { stop.hidden = true; }
  }
  function speak() {
    if (!synth || !window.SpeechSynthesisUtterance) { note.textContent = strings.noSpeech; return; }
    var item = visibleItem();
    if (!item) { return; }
    stopSpeech();
    var missing = false;
    var parts = utterances(item);
    parts.forEach(function (part, index) {
      var u = new window.SpeechSynthesisUtterance(part.text.trim());
      u.lang = part.lang;  // even without a matching voice the browser then picks by language
      var voice = voiceFor(part.lang);
      try { if (voice) { u.voice = voice; } } catch (e) { voice = null; }
      if (!voice) { missing = true; }
      if (index === parts.length - 1) { u.onend = function () { button("stop_speech").hidden = true; }; }
      synth.speak(u);
    });
    note.textContent = missing ? strings.noVoice : "";
    button("stop_speech").hidden = !parts.length;
    window.ppSpoken = parts;  // what was read, in which language (for tests and support)
  }
  document.addEventListener("pp:item-shown", stopSpeech);

  // --- calculator -----------------------------------------------------------------------------
  // A recursive-descent parser for + - * / ( ) and decimal numbers; × ÷ and a decimal comma too.
  function calculate(text) {
    var src = text.replace(/×/g, "*").replace(/÷/g, "/").replace(/−/g, "-").replace(/,/g, ".").replace(/\s+/g, "");
    var pos = 0;
    function peek() { return src.charAt(pos); }
    function number() {
      var match = /^\d+(\.\d+)?|^\.\d+/.exec(src.slice(pos));
      if (!match) { throw new Error("number"); }
      pos += match[0].length;
      return parseFloat(match[0]);
    }
    function factor() {
      if (peek() === "-") { pos += 1; return -factor(); }
      if (peek() === "+") { pos += 1; return factor(); }
      if (peek() === "(") {
        pos += 1;
        var value = expression();
        if (peek() !== ")") { throw new Error(")"); }
        pos += 1;
        return value;
      }
      return number();
    }
    function term() {
      var value = factor();
      while (peek() === "*" || peek() === "/") {
        var op = src.charAt(pos); pos += 1;
        var right = factor();
        value = op === "*" ? value * right : value / right;
      }
      return value;
    }
    function expression() {
      var value = term();
      while (peek() === "+" || peek() === "-") {
        var op = src.charAt(pos); pos += 1;
        var right = term();
        value = op === "+" ? value + right : value - right;
      }
      return value;
    }
    var result = expression();
    if (pos !== src.length || !isFinite(result)) { throw new Error("syntax"); }
    return Math.round(result * 1e10) / 1e10;
  }
  window.ppCalculate = calculate;
  var calcForm = document.getElementById("calculator-form");
  if (calcForm) {
    calcForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var out = document.getElementById("calculator-result");
      try {
        var lang = document.documentElement.lang || "sv";
        out.textContent = calculate(document.getElementById("calculator-input").value).toLocaleString(lang);
      } catch (e) { out.textContent = strings.calcError; }
    });
  }

  // --- dictionary -----------------------------------------------------------------------------
  var search = document.getElementById("dictionary-search");
  if (search) {
    search.addEventListener("input", function () {
      var wanted = search.value.trim().toLowerCase();
      document.querySelectorAll(".dictionary [data-term]").forEach(function (entry) {
        entry.hidden = wanted !== "" && entry.dataset.term.indexOf(wanted) < 0;
      });
    });
  }

  // --- buttons and dialogs --------------------------------------------------------------------
  function openDialog(id, focus) {
    var dialog = document.getElementById(id);
    if (!dialog) { return; }
    dialog.showModal();
    var field = document.getElementById(focus);
    if (field) { field.focus(); }
  }
  document.querySelectorAll(".exam-tool-dialog [data-close]").forEach(function (close) {
    close.addEventListener("click", function () { close.closest("dialog").close(); });
  });
  bar.addEventListener("click", function (event) {
    var target = event.target.closest("[data-tool]");
    if (!target) { return; }
    var tool = target.dataset.tool;
    var p = prefs();
    if (tool === "enlarged_text") { p.enlarged = !p.enlarged; savePrefs(p); setEnlarged(p.enlarged); }
    if (tool === "spell_check") { p.spellcheck = !p.spellcheck; savePrefs(p); setSpellcheck(p.spellcheck); }
    if (tool === "text_to_speech") { speak(); }
    if (tool === "stop_speech") { stopSpeech(); target.blur(); button("text_to_speech").focus(); }
    if (tool === "calculator") { openDialog("tool-calculator", "calculator-input"); }
    if (tool === "dictionary") { openDialog("tool-dictionary", "dictionary-search"); }
  });
}());
