/* "This device" on the nudges page: turn notifications on or off in this browser.

   Turning on asks the browser for permission, subscribes with the server's public key
   (GET /api/v1/push/key) and registers the subscription (POST /api/v1/me/devices, this
   session's CSRF token). The page then reloads so the list of devices shows it. Where
   push cannot work, it says why and what would help, rather than showing a button
   that fails. Without JavaScript the page works as before: nudges come by email. */
(function () {
  "use strict";

  var card = document.querySelector("[data-push]");
  if (!card) return;
  var status = card.querySelector("[data-push-status]");
  var enable = card.querySelector("[data-push-enable]");
  var disable = card.querySelector("[data-push-disable]");

  function say(text) { status.textContent = text; }
  function show(button, on) { button.hidden = !on; }

  function csrfToken() {
    var field = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(firstError(data) || "The server said no (" + response.status + ").");
        return data;
      });
    });
  }

  function firstError(data) {
    if (!data || typeof data !== "object") return "";
    if (typeof data.detail === "string") return data.detail;
    for (var key in data) {
      var value = data[key];
      if (Array.isArray(value) && typeof value[0] === "string") return value[0];
      if (typeof value === "string") return value;
    }
    return "";
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  // A name to tell devices apart in the list ("Chrome on Android"); people can't see
  // an endpoint, and a name is all the server keeps about the device besides it.
  function deviceName() {
    var ua = navigator.userAgent;
    var browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox"
      : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
    var system = /Android/.test(ua) ? "Android" : /iPhone|iPad|iPod/.test(ua) ? "iPhone or iPad"
      : /Mac OS X/.test(ua) ? "Mac" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
    return system ? browser + " on " + system : browser;
  }

  function appleMobile() {
    return /iPhone|iPad|iPod/.test(navigator.userAgent) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  }

  function installed() {
    return window.navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
  }

  function unavailable() {
    if (!window.isSecureContext) {
      return "Notifications need a secure (https) connection to this site. Nudges still come by email.";
    }
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      if (appleMobile() && !installed()) {
        return "On iPhone and iPad, notifications work once Nuzzle is on your Home Screen: tap Share, then \u201cAdd to Home Screen\u201d, and open Nuzzle from there.";
      }
      return "This browser can't show notifications from websites. Nudges still come by email.";
    }
    return "";
  }

  function blocked() {
    return "Notifications are blocked for this site in this browser. Allow them in the browser's site settings, then come back here.";
  }

  function subscription() {
    return navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription().then(function (existing) {
        return { registration: registration, existing: existing };
      });
    });
  }

  function register(sub) {
    var body = sub.toJSON();
    return api("POST", card.dataset.devicesUrl, {
      endpoint: body.endpoint,
      keys: { p256dh: body.keys.p256dh, auth: body.keys.auth },
      name: deviceName(),
    });
  }

  function turnOn() {
    enable.disabled = true;
    say("Asking this browser for permission\u2026");
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw new Error(permission === "denied" ? blocked() : "Notifications weren't allowed. You can try again any time.");
        return Promise.all([api("GET", card.dataset.keyUrl), subscription()]);
      })
      .then(function (results) {
        var key = results[0].public_key;
        var found = results[1];
        var existing = found.existing;
        // A subscription made with another key (the server's key changed) is replaced.
        var stale = existing && existing.options && existing.options.applicationServerKey &&
          btoa(String.fromCharCode.apply(null, new Uint8Array(existing.options.applicationServerKey))) !==
          btoa(String.fromCharCode.apply(null, keyBytes(key)));
        var ready = stale ? existing.unsubscribe().then(function () { return null; }) : Promise.resolve(existing);
        return ready.then(function (current) {
          return current || found.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
        });
      })
      .then(register)
      .then(function () {
        say("Notifications are on for this device.");
        window.location.reload();
      })
      .catch(function (error) {
        enable.disabled = false;
        say(error && error.message ? error.message : "Couldn't turn notifications on here.");
      });
  }

  function turnOff() {
    disable.disabled = true;
    subscription()
      .then(function (found) {
        var gone = card.dataset.deviceId
          ? api("DELETE", card.dataset.devicesUrl + "/" + card.dataset.deviceId)
          : Promise.resolve(null);
        return gone.then(function () { return found.existing ? found.existing.unsubscribe() : null; });
      })
      .then(function () { window.location.reload(); })
      .catch(function (error) {
        disable.disabled = false;
        say(error && error.message ? error.message : "Couldn't turn notifications off here.");
      });
  }

  var reason = unavailable();
  if (reason) { say(reason); return; }
  if (Notification.permission === "denied") { say(blocked()); return; }
  enable.addEventListener("click", turnOn);
  disable.addEventListener("click", turnOff);
  // On only when this browser still has its subscription and the server still has the
  // device this session registered (it may have been removed here, or found gone).
  subscription().then(function (found) {
    if (found.existing && Notification.permission === "granted" && card.dataset.deviceId) {
      say("Notifications are on for this device.");
      show(disable, true);
    } else {
      say("Notifications are off for this device.");
      show(enable, true);
    }
  }).catch(function () { say("Notifications are off for this device."); show(enable, true); });
})();
