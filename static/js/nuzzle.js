// Nuzzle's progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Pre-select the browser's time zone in sign-up forms (the field stays editable).
  function guessTimezone() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone) return;
    document.querySelectorAll("select[data-guess-timezone]").forEach(function (select) {
      if (select.dataset.guessed) return;
      var option = select.querySelector('option[value="' + CSS.escape(zone) + '"]');
      if (option && select.value === "UTC") { select.value = zone; }
      select.dataset.guessed = "1";
    });
  }

  // "Copy" buttons next to read-only fields (hidden until this script shows them).
  function enableCopyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var target = document.querySelector(button.dataset.copy);
      if (!target || !navigator.clipboard || button.dataset.copyReady) return;
      button.dataset.copyReady = "1";
      button.hidden = false;
      button.setAttribute("aria-live", "polite");  // "Copied" is read out, not only shown
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.value).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 2000);
        });
      });
    });
  }

  // Read-only fields meant to be copied (the invite link): one tap selects all of it.
  function enableSelectAll() {
    document.querySelectorAll("input[data-select-all]").forEach(function (input) {
      if (input.dataset.selectAllReady) return;
      input.dataset.selectAllReady = "1";
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  // After htmx swaps in a fragment that reports something ("Saved", "Sent"), move focus
  // there: the control the person used has just been replaced, and a screen reader then
  // reads the news instead of starting again from the top of the page.
  function focusNews() {
    var news = document.querySelector("[data-autofocus]");
    if (!news) return;
    news.removeAttribute("data-autofocus");
    news.focus({ preventScroll: false });
  }

  // Long answers: near the limit, the hint under the field says how much room is left
  // (the field's maxlength stops typing at the limit either way).
  function enableCounters() {
    document.querySelectorAll("textarea[data-count][maxlength]").forEach(function (field) {
      var hint = document.getElementById(field.dataset.count);
      if (!hint || field.dataset.countReady) return;
      field.dataset.countReady = "1";
      var original = hint.textContent;
      function update() {
        var left = field.maxLength - field.value.length;
        hint.textContent = left <= 200
          ? left + (left === 1 ? " character" : " characters") + " left."
          : original;
      }
      field.addEventListener("input", update);
      update();
    });
  }

  function init() { guessTimezone(); enableCopyButtons(); enableSelectAll(); enableCounters(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  document.addEventListener("htmx:afterSettle", function () { init(); focusNews(); });
})();
