/* The locator's service worker (served at /sw.js, scope /): the public pages stay usable with no
   signal, and check-ins and reports made offline are sent when the network is back.

   - Pages (the list /, a station /s/<code>, its check-in page /c/<code>, its report page
     /s/<code>/report and their thanks pages):
     network first; each good answer is kept. With no network the kept copy is shown, its
     "offline · updated at HH:MM" note revealed; a list asked for with no copy of its own gets the
     last list kept. Static files: cache first (their names carry a hash).
   - A check-in posted with no network is kept with a request id of its own and answered with the
     station's "saved, sent when online" page; it is sent to the check-in API when a page says
     the network is back (and on each later start), with the same request id however often it
     is sent — so it never counts twice. Refused ones (a station gone) are dropped.
   - A problem report (/s/<code>/report, with its photo if one was chosen) and "no station here"
     (/no-station/, the list's point) posted with no network are queued and sent the same way,
     each with its own request id: to the report API and the no-station API.
   No framework; nothing is kept but what the forms send (a report's contact only if typed). */
"use strict";

var PAGES = "yizhan-pages-v1";
var STATIC = "yizhan-static-v1";
var DB = "yizhan-offline";
var STORE = "checkins";
var REPORTS = "reports";
var NO_STATION = "no_station";
var LAST_LIST = "/__last-list__";

function pageKind(url) {
  if (url.origin !== self.location.origin) return null;
  var p = url.pathname;
  if (p === "/") return "list";
  if (/^\/s\/[^/]+(\/report(\/thanks)?)?$/.test(p) || /^\/c\/[^/]+(\/thanks)?$/.test(p)) return "page";
  if (p === "/no-station/queued") return "page";
  return null;
}

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim().then(flush));
});

function stamped(response) {
  /* A copy to keep, with the moment it was fetched. */
  return response.clone().text().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set("x-yizhan-kept-at", String(Date.now()));
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

function clock(ms) {
  var d = new Date(Number(ms) || Date.now());
  try {
    return d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Shanghai" });
  } catch (e) {
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
}

function offlineCopy(kept) {
  /* The kept page with its offline note shown and the time it was fetched filled in. */
  return kept.text().then(function (body) {
    var at = clock(kept.headers.get("x-yizhan-kept-at"));
    body = body.replace('class="offline-note" hidden', 'class="offline-note"')
      .replace('<time class="offline-time"></time>', '<time class="offline-time">' + at + "</time>");
    var headers = new Headers(kept.headers);
    headers.set("x-yizhan-offline", "1");
    return new Response(body, { status: 200, headers: headers });
  });
}

function networkFirst(request, kind) {
  return fetch(request).then(function (response) {
    if (response.ok && response.type === "basic") {
      stamped(response).then(function (copy) {
        return caches.open(PAGES).then(function (cache) {
          var jobs = [cache.put(request.url, copy.clone())];
          if (kind === "list" && new URL(request.url).search) jobs.push(cache.put(LAST_LIST, copy));
          var path = new URL(request.url).pathname;
          var m = path.match(/^\/c\/([^/]+)$/);
          if (m) jobs.push(keep(cache, "/c/" + m[1] + "/thanks?queued=1"));
          var r = path.match(/^\/s\/([^/]+)\/report$/);
          if (r) jobs.push(keep(cache, "/s/" + r[1] + "/report/thanks?queued=1"));
          if (kind === "list") jobs.push(keep(cache, "/no-station/queued"));
          return Promise.all(jobs);
        });
      });
      flush();
    }
    return response;
  }).catch(function () {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(request.url).then(function (kept) {
        if (!kept && kind === "list") return cache.match(LAST_LIST);
        return kept;
      });
    }).then(function (kept) {
      return kept ? offlineCopy(kept) : Response.error();
    });
  });
}

function keep(cache, url) {
  /* The page a queued post is answered with offline, fetched while there is network. */
  return cache.match(url).then(function (kept) {
    if (kept) return null;
    return fetch(url).then(function (r) {
      return r.ok ? stamped(r).then(function (c) { return cache.put(url, c); }) : null;
    });
  }).catch(function () {});
}

function cacheFirst(request) {
  return caches.open(STATIC).then(function (cache) {
    return cache.match(request).then(function (kept) {
      return kept || fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
    });
  });
}

function staticNetworkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(STATIC).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.open(STATIC).then(function (cache) { return cache.match(request); }).then(function (kept) {
      return kept || Response.error();
    });
  });
}

/* --- the queue of check-ins made offline ------------------------------------------------------ */

function db() {
  return new Promise(function (resolve, reject) {
    var open = indexedDB.open(DB, 2);
    open.onupgradeneeded = function () {
      [STORE, REPORTS, NO_STATION].forEach(function (name) {
        if (!open.result.objectStoreNames.contains(name)) open.result.createObjectStore(name, { keyPath: "request_id" });
      });
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });
}

function store(mode, work, name) {
  return db().then(function (database) {
    return new Promise(function (resolve, reject) {
      var tx = database.transaction(name || STORE, mode);
      var result = work(tx.objectStore(name || STORE));
      tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
      tx.onerror = function () { reject(tx.error); };
    });
  });
}

function requestId() {
  if (self.crypto && self.crypto.randomUUID) return "offline-" + self.crypto.randomUUID();
  return "offline-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
}

function queueCheckin(request, code) {
  return request.formData().then(function (form) {
    var item = {
      request_id: requestId(),
      code: code,
      group: form.get("group") || "",
      services: form.getAll("services"),
      at: Date.now()
    };
    return store("readwrite", function (s) { return s.put(item); });
  }).then(function () {
    return caches.open(PAGES).then(function (cache) { return cache.match("/c/" + code + "/thanks?queued=1"); });
  }).then(function (kept) {
    return kept ? offlineCopy(kept) : Response.error();
  });
}

function queueReport(request, code) {
  return request.formData().then(function (form) {
    var photo = form.get("photo");
    var item = {
      request_id: requestId(),
      code: code,
      kind: form.get("kind") || "",
      facility: form.get("facility") || "",
      text: form.get("text") || "",
      contact: form.get("contact") || "",
      photo: photo && photo.size ? photo : null,
      at: Date.now()
    };
    return store("readwrite", function (s) { return s.put(item); }, REPORTS);
  }).then(function () {
    return caches.open(PAGES).then(function (cache) { return cache.match("/s/" + code + "/report/thanks?queued=1"); });
  }).then(function (kept) {
    return kept ? offlineCopy(kept) : Response.error();
  });
}

function queueNoStation(request) {
  return request.formData().then(function (form) {
    var item = { request_id: requestId(), lat: form.get("lat") || "", lng: form.get("lng") || "", at: Date.now() };
    return store("readwrite", function (s) { return s.put(item); }, NO_STATION);
  }).then(function () {
    return caches.open(PAGES).then(function (cache) { return cache.match("/no-station/queued"); });
  }).then(function (kept) {
    return kept ? offlineCopy(kept) : Response.error();
  });
}

function send(name, build) {
  /* Each queued item of the store `name`, one after another, with its own request id. Sent (2xx,
     the API answers a resend as it did the first time), or refused for good (a closed station,
     bad data, a request id the server refuses): either way it leaves the queue. A 429 or a 5xx
     stays for the next try. */
  return store("readonly", function (s) { return s.getAll(); }, name).then(function (items) {
    return items.reduce(function (chain, item) {
      return chain.then(function () {
        return fetch(build.url(item), build.init(item)).then(function (response) {
          if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429)) {
            return store("readwrite", function (s) { return s.delete(item.request_id); }, name);
          }
        });
      });
    }, Promise.resolve());
  });
}

function json(body) {
  return { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit" };
}

var flushing = null;
function flush() {
  if (flushing) return flushing;
  flushing = send(STORE, {
    url: function (item) { return "/api/v1/stations/" + encodeURIComponent(item.code) + "/checkins"; },
    init: function (item) { return json({ group: item.group || null, services: item.services, request_id: item.request_id }); }
  }).then(function () {
    return send(REPORTS, {
      url: function (item) { return "/api/v1/stations/" + encodeURIComponent(item.code) + "/reports"; },
      init: function (item) {
        var form = new FormData();
        ["kind", "facility", "text", "contact", "request_id"].forEach(function (k) { form.append(k, item[k] || ""); });
        if (item.photo) form.append("photo", item.photo, item.photo.name || "photo.jpg");
        return { method: "POST", body: form, credentials: "omit" };
      }
    });
  }).then(function () {
    return send(NO_STATION, {
      url: function () { return "/api/v1/no-station"; },
      init: function (item) { return json({ lat: item.lat, lng: item.lng, request_id: item.request_id }); }
    });
  }).catch(function () {}).then(function () { flushing = null; });
  return flushing;
}

self.addEventListener("message", function (event) {
  if (event.data === "flush") event.waitUntil(flush());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var checkin = url.pathname.match(/^\/c\/([^/]+)$/);
  if (request.method === "POST" && checkin) {
    var copy = request.clone();
    event.respondWith(fetch(request).catch(function () { return queueCheckin(copy, decodeURIComponent(checkin[1])); }));
    return;
  }
  var report = url.pathname.match(/^\/s\/([^/]+)\/report$/);
  if (request.method === "POST" && report) {
    var reportCopy = request.clone();
    event.respondWith(fetch(request).catch(function () { return queueReport(reportCopy, decodeURIComponent(report[1])); }));
    return;
  }
  if (request.method === "POST" && url.pathname === "/no-station/") {
    var pointCopy = request.clone();
    event.respondWith(fetch(request).catch(function () { return queueNoStation(pointCopy); }));
    return;
  }
  if (request.method !== "GET") return;
  var kind = pageKind(url);
  if (kind && request.mode === "navigate") {
    event.respondWith(networkFirst(request, kind));
  } else if (url.pathname.indexOf("/static/") === 0) {
    // Hashed names (production) never change: cache first. Others (make run): network first.
    event.respondWith(/\.[0-9a-f]{12}\./.test(url.pathname) ? cacheFirst(request) : staticNetworkFirst(request));
  }
});
