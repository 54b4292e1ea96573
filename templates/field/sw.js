// ComAdvisor CRM, field kit: the service worker (rendered by field/client_views.py).
// - install: precache the shell (/field/) and every static file it loads, in a cache named after
//   their digest, so that a new version installs beside the old one;
// - the shell is network first (the latest page when the server answers within a few seconds),
//   the cached copy otherwise: the kit opens offline, also after the browser was closed;
// - static files come from the cache; the API never does (the kit's own scripts handle it).
"use strict";

const VERSION = {{ version|safe }};
const CACHE = "comadvisor-field-" + VERSION;
const SHELL = {{ shell|safe }};
const API = {{ api|safe }};
const ASSETS = {{ assets|safe }};
const ASSET_PATHS = new Set(ASSETS.map((url) => new URL(url, self.location.origin).pathname));
const NETWORK_TIMEOUT = 4000;

// A usable shell: the page itself, not the login page a lapsed session is redirected to.
function isShell(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

async function keepShell(cache) {
  try {
    const response = await fetch(SHELL, { credentials: "same-origin", cache: "no-store" });
    if (isShell(response)) {
      await cache.put(SHELL, response);
      return;
    }
  } catch (error) {
    // Offline or refused: fall back on the previous version's copy below.
  }
  const previous = await caches.match(SHELL);
  if (previous) { await cache.put(SHELL, previous); }
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS.map((url) => new Request(url, { cache: "reload" })));
    await keepShell(cache);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("comadvisor-field-") && name !== CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

function timeout(milliseconds) {
  return new Promise((resolve, reject) => setTimeout(() => reject(new Error("timeout")), milliseconds));
}

async function shellResponse(event) {
  const cache = await caches.open(CACHE);
  const network = fetch(event.request).then(async (response) => {
    if (isShell(response)) { await cache.put(SHELL, response.clone()); }
    return response;
  });
  // The copy is refreshed even when the cached page answered first.
  event.waitUntil(network.catch(() => null));
  try {
    const response = await Promise.race([network, timeout(NETWORK_TIMEOUT)]);
    // A server error is no reason to leave the agent without their kit.
    if (response.status < 500) { return response; }
  } catch (error) {
    // Offline, or too slow: the cached shell.
  }
  const cached = (await cache.match(SHELL)) || (await caches.match(SHELL));
  return cached || network;
}

async function assetResponse(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith(API)) { return; }
  if (request.mode === "navigate" && url.pathname === SHELL) {
    event.respondWith(shellResponse(event));
  } else if (ASSET_PATHS.has(url.pathname)) {
    event.respondWith(assetResponse(request));
  }
});

// {type: "probe", url}: the worker fetches the URL from the network itself and answers whether
// it could. Offline it must fail: the browser tests check that the offline emulation reaches
// the worker too.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = (message) => (event.ports[0] ? event.ports[0].postMessage(message) : event.source.postMessage(message));
  if (data.type === "probe") {
    event.waitUntil(fetch(data.url, { cache: "no-store" })
      .then((response) => reply({ type: "probe", ok: true, status: response.status }),
        (error) => reply({ type: "probe", ok: false, error: String(error) })));
  } else if (data.type === "version") {
    reply({ type: "version", version: VERSION });
  }
});
