/* Offline support where the browser has it (WeChat's and Alipay's in-app browsers may not: the
   pages work as before). Registers the service worker and asks it to send any check-ins and
   reports kept offline, now and whenever the network comes back. */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  function flush() {
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage("flush");
    });
  }
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(flush, function () {});
  window.addEventListener("online", flush);
})();
