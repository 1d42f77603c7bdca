{% autoescape off %}/* Nuzzle's service worker (served at /sw.js, scope "/").

   It keeps one thing on the device: the offline page and the static files it needs,
   fetched without cookies. It never stores a signed-in page or an API response:
   everything else goes to the network as if there were no worker. It shows the push
   notifications the server sends (a title, a body, a link and a tag: names and counts,
   never anyone's words) and opens their page when one is tapped. */
"use strict";

const CONFIG = {{ config }};
const CACHE = "nuzzle-offline-" + CONFIG.version;
const KEPT = [CONFIG.offline].concat(CONFIG.assets);

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(KEPT.map((url) => new Request(url, { credentials: "omit" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("nuzzle-") && name !== CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // The network, always; the offline page only when there is none.
    event.respondWith(fetch(request).catch(() => caches.match(CONFIG.offline)));
    return;
  }
  if (KEPT.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((kept) => kept || fetch(request)));
  }
});

function samePage(link) {
  // Only a page of this site: a payload can never send someone elsewhere.
  try {
    const url = new URL(link || "/", self.location.origin);
    return url.origin === self.location.origin ? url.pathname + url.search : "/";
  } catch (error) {
    return "/";
  }
}

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {};
  }
  const title = typeof message.title === "string" && message.title ? message.title : "Nuzzle";
  const options = {
    body: typeof message.body === "string" ? message.body : "",
    tag: typeof message.tag === "string" && message.tag ? message.tag : "nuzzle",
    icon: CONFIG.icon,
    badge: CONFIG.icon,
    data: { url: samePage(message.url) },
  };
  const badge = "setAppBadge" in self.navigator ? self.navigator.setAppBadge() : Promise.resolve();
  event.waitUntil(Promise.all([self.registration.showNotification(title, options), badge.catch(() => {})]));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(samePage(event.notification.data && event.notification.data.url), self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
      if (open) {
        // Already on that page (a #fragment aside): just focus it, no reload.
        const here = (client) => client && new URL(client.url).pathname + new URL(client.url).search === new URL(target).pathname + new URL(target).search;
        return open.focus().then((client) => (client && !here(client) ? client.navigate(target) : client));
      }
      return self.clients.openWindow(target);
    })
  );
});
{% endautoescape %}
