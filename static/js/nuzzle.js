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

  // "Share…" opens the system share sheet (a phone's messages, mail, chat apps) where the
  // browser has one; elsewhere the button stays hidden and "Copy" does the job.
  function enableShareButtons() {
    if (typeof navigator.share !== "function") return;
    document.querySelectorAll("[data-share]").forEach(function (button) {
      var target = document.querySelector(button.dataset.share);
      if (!target || button.dataset.shareReady) return;
      button.dataset.shareReady = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.share({ title: button.dataset.shareTitle || document.title, url: target.value })
          .catch(function () {});  // closed without sharing: nothing to do
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

  // --- A person's words: limits, drafts, and nothing lost when htmx swaps a card ---------
  //
  // Fields that take a person's words carry `data-limit` (the server's limit: the browser
  // never cuts a paste short, the server refuses over-long text and shows it again) and,
  // for the longer ones, `data-draft` (an unsent draft is kept in this browser). Their
  // form's `data-draft-scope` names what is being written (today's check-in, a reply to
  // one check-in, one question's answer...), so a draft finds its field on any page.

  // Count as the server counts: characters (an emoji is one, as in Python), with each
  // line break as one (a textarea's value has LF; the server turns the CRLF it receives
  // back into LF before counting).
  function lengthOf(text) { return Array.from(text.replace(/\r\n?/g, "\n")).length; }
  function number(n) { return n.toLocaleString("en-GB"); }

  function counterOf(field) {
    var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/);
    for (var i = 0; i < ids.length; i++) {
      var element = ids[i] && document.getElementById(ids[i]);
      if (element && element.classList.contains("counter")) return element;
    }
    return null;
  }

  // Under each field: its limit, then (once there is text) "120 / 500", "20 left" near the
  // limit, "512 / 500 — 12 too many" over it. The visible counter is not read out on every
  // keystroke; a polite live region says when the text comes near the limit, goes over it
  // or comes back under, once the person pauses.
  function enableCounters() {
    document.querySelectorAll("[data-limit]").forEach(function (field) {
      var counter = counterOf(field);
      if (!counter || field.dataset.limitReady) return;
      field.dataset.limitReady = "1";
      var limit = parseInt(field.dataset.limit, 10);
      var resting = counter.textContent;
      var live = document.createElement("span");
      live.className = "visually-hidden";
      live.setAttribute("aria-live", "polite");
      counter.after(live);
      var state = "ok";
      var timer = null;
      function say(message) {
        clearTimeout(timer);
        timer = setTimeout(function () { live.textContent = message; }, 700);
      }
      function update(announce) {
        var length = lengthOf(field.value);
        var left = limit - length;
        var next = left < 0 ? "over" : left <= Math.max(20, Math.round(limit / 10)) ? "near" : "ok";
        if (!length) {
          counter.textContent = resting;
        } else if (next === "over") {
          counter.textContent = number(length) + " / " + number(limit) + " — " + number(-left) + " too many";
        } else if (next === "near") {
          counter.textContent = number(length) + " / " + number(limit) + " — " + number(left) + " left";
        } else {
          counter.textContent = number(length) + " / " + number(limit);
        }
        counter.classList.toggle("counter--near", next === "near");
        counter.classList.toggle("counter--over", next === "over");
        field.classList.toggle("is-over-limit", next === "over");
        if (announce && next === "over") {
          // Over: say by how much, once the person pauses (not at every keystroke).
          say(number(-left) + (left === -1 ? " character" : " characters") + " too many. The limit is " + number(limit) + ".");
        } else if (announce && next !== state && (next === "near" || state === "over")) {
          say((state === "over" ? "Back within the limit. " : "") +
            (next === "near" ? number(left) + (left === 1 ? " character" : " characters") + " left." : ""));
        }
        state = next;
      }
      field.addEventListener("input", function () { update(true); });
      update(false);
    });
  }

  var DRAFT = "nuzzle:draft:";
  var SENT = "nuzzle:sent";
  var DRAFT_DAYS = 14;  // an unsent draft older than this is dropped, not restored

  function store(kind) {
    try { var s = window[kind]; s.getItem(DRAFT); return s; } catch (e) { return null; }
  }
  var local = store("localStorage");
  var session = store("sessionStorage");

  // Drafts belong to one account: two people on one device never see each other's.
  function account() {
    var meta = document.querySelector('meta[name="nuzzle-account"]');
    return meta ? meta.content : "";
  }

  function draftKey(field) {
    var scope = (field.form && field.form.dataset.draftScope) || location.pathname;
    return DRAFT + account() + ":" + scope + ":" + (field.name || field.id);
  }

  function readDraft(key) {
    if (!local) return null;
    try { return JSON.parse(local.getItem(key) || "null"); } catch (e) { return null; }
  }

  function writeDraft(field) {
    if (!local || !account()) return;
    var key = draftKey(field);
    try {
      if (field.value === field.defaultValue) { local.removeItem(key); return; }
      // `base` is the text the server gave the field: a draft is only ever restored over
      // that same text, never over newer text saved since (on another device, say).
      local.setItem(key, JSON.stringify({ text: field.value, base: field.defaultValue, at: Date.now() }));
    } catch (e) { /* storage full or refused: the field itself still holds the text */ }
  }

  function dropDraft(key) { if (local) local.removeItem(key); }

  // Every draft of this browser (all accounts): on logging out, and on deleting the account.
  function forgetDrafts() {
    if (local) {
      Object.keys(local).forEach(function (key) {
        if (key.indexOf(DRAFT) === 0) local.removeItem(key);
      });
    }
    if (session) session.removeItem(SENT);
  }

  // On a page of one account, drafts of any other account (someone else used this browser
  // and didn't log out) and drafts too old to matter are dropped, not kept around.
  function tidyDrafts() {
    if (!local || !account()) return;
    var mine = DRAFT + account() + ":";
    var oldest = Date.now() - DRAFT_DAYS * 864e5;
    Object.keys(local).forEach(function (key) {
      if (key.indexOf(DRAFT) !== 0) return;
      var draft = readDraft(key);
      if (key.indexOf(mine) !== 0 || !draft || !(draft.at > oldest)) local.removeItem(key);
    });
  }

  // The server showed this field's form again with an error: nothing in it was saved.
  function refused(field) {
    return field.getAttribute("aria-invalid") === "true" ||
      !!(field.form && field.form.querySelector('[aria-invalid="true"], .form-errors'));
  }

  function openAround(field) {
    for (var fold = field.closest("details"); fold; fold = fold.parentElement && fold.parentElement.closest("details")) {
      fold.open = true;
    }
  }

  function setText(field, text) {
    field.value = text;
    openAround(field);
    field.dispatchEvent(new Event("input", { bubbles: true }));  // the counter, the draft
  }

  function noteFor(field) {
    var anchor = counterOf(field) || field;
    if (anchor.nextElementSibling && anchor.nextElementSibling.getAttribute("aria-live") === "polite") {
      anchor = anchor.nextElementSibling;  // after the counter's live region
    }
    var note = document.createElement("p");
    note.className = "draft-note";
    note.setAttribute("role", "status");
    anchor.after(note);
    return note;
  }

  function button(label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "link-button";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  // A draft from an earlier visit: restored into its field (still showing the text the
  // server gave it) with a calm note and a way to discard it; offered, not applied, when
  // the server's text has changed since the draft began; dropped once the server has it.
  function restoreDraft(field) {
    var key = draftKey(field);
    var draft = readDraft(key);
    if (!draft) return;
    var server = field.defaultValue;
    if (draft.text === server) {
      // Saved, or shown again with an error (then it stays a draft until it is sent).
      if (!refused(field)) dropDraft(key);
      return;
    }
    if (field.value !== server) return;  // the field already holds other typing
    var note = noteFor(field);
    function discard() {
      dropDraft(key);
      note.remove();
      setText(field, field.defaultValue);
      field.focus();
    }
    if (draft.base === server) {
      setText(field, draft.text);
      note.append("Restored your unsent draft. ", button("Discard it", discard));
    } else {
      note.append("You have an unsent draft from before this was last saved. ",
        button("Use my draft", function () {
          note.remove();
          setText(field, draft.text);
          field.focus();
        }), " ", button("Discard it", discard));
    }
  }

  function enableDrafts() {
    if (!account()) return;
    var fields = document.querySelectorAll("[data-draft]");
    var onPage = {};
    fields.forEach(function (field) { onPage[draftKey(field)] = true; });
    // Forms sent without htmx on the last page: a draft whose field is gone has been taken
    // (a guess, once revealed, has no field any more); the others are settled below.
    var sent = [];
    if (session) {
      try { sent = JSON.parse(session.getItem(SENT) || "[]"); } catch (e) { sent = []; }
      session.removeItem(SENT);
    }
    sent.forEach(function (key) { if (!onPage[key]) dropDraft(key); });
    fields.forEach(function (field) {
      if (field.dataset.draftReady) return;
      field.dataset.draftReady = "1";
      restoreDraft(field);
      field.addEventListener("input", function () { writeDraft(field); });
    });
  }

  // A plain form post (not htmx): its drafts stay until the next page shows how it went.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-forget-drafts")) { forgetDrafts(); return; }
    if (event.defaultPrevented || !session) return;  // htmx sends it: see below
    var keys = Array.prototype.map.call(form.querySelectorAll("[data-draft]"), draftKey);
    if (keys.length) session.setItem(SENT, JSON.stringify(keys));
  });

  // htmx replaces a card after a reaction, a reply, an answer... Typing in the card's
  // other fields is not part of what was sent, and must not vanish with the old card: it
  // is carried into the new card's field (when the server's text there is unchanged).
  // What was sent is done with, unless the card comes back with an error.
  var carried = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var sender = detail.requestConfig && detail.requestConfig.elt;
    var sentForm = sender && (sender.closest ? sender.closest("form") : null);
    var failed = detail.xhr && detail.xhr.status >= 400;
    carried = [];
    if (!detail.target || !detail.shouldSwap) return;
    detail.target.querySelectorAll("[data-draft], [data-limit]").forEach(function (field) {
      carried.push({
        id: field.id, key: field.hasAttribute("data-draft") ? draftKey(field) : null,
        text: field.value, base: field.defaultValue,
        sent: !!sentForm && field.form === sentForm, failed: failed,
      });
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    carried.forEach(function (was) {
      var field = was.id && document.getElementById(was.id);
      if (was.sent) {
        var notTaken = was.failed || (field && refused(field));
        if (!notTaken && was.key) dropDraft(was.key);
        if (notTaken && field && !field.value && was.text) setText(field, was.text);
        return;
      }
      if (field && field.defaultValue === was.base && field.value !== was.text) {
        setText(field, was.text);
      }
    });
    carried = [];
  });

  // The app icon's badge, set by the service worker when a nudge arrives, says something
  // is waiting; opening Nuzzle signed in is seeing it, so the badge goes.
  function clearBadge() {
    if (typeof navigator.clearAppBadge !== "function") return;
    if (!document.querySelector('meta[name="nuzzle-account"]')) return;
    navigator.clearAppBadge().catch(function () {});
  }

  // The service worker (/sw.js): the offline page and, once a device is turned on for
  // them, notifications. It keeps no signed-in page and no API answer.
  function registerWorker() {
    if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }

  function init() {
    guessTimezone(); enableShareButtons(); enableCopyButtons(); enableSelectAll(); enableCounters(); enableDrafts();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { tidyDrafts(); init(); });
  } else {
    tidyDrafts();
    init();
  }
  clearBadge();
  if (document.readyState === "complete") {
    registerWorker();
  } else {
    window.addEventListener("load", registerWorker);
  }
  document.addEventListener("htmx:afterSettle", function () { init(); focusNews(); });
})();
