/* Near me: ask for the location only when the visitor taps the button; the list itself is
   server-rendered and works without this script. */
(function () {
  "use strict";
  var button = document.getElementById("locate");
  var form = document.getElementById("filters");

  function query(extra) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value === "" || (name === "when" && value === "any")) return;
      if (["lat", "lng", "near", "city", "q"].indexOf(name) < 0) params.append(name, value);
    });
    Object.keys(extra).forEach(function (name) { params.set(name, extra[name]); });
    return params.toString();
  }

  if (button && form && navigator.geolocation) {
    button.hidden = false;
    document.getElementById("locate-note").hidden = false;
    button.addEventListener("click", function () {
      var error = document.getElementById("locate-error");
      button.disabled = true;
      error.hidden = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          window.location.assign(form.getAttribute("action") + "?" + query({
            lat: position.coords.latitude.toFixed(5),
            lng: position.coords.longitude.toFixed(5)
          }));
        },
        function () {
          button.disabled = false;
          error.textContent = button.getAttribute("data-denied");
          error.hidden = false;
          document.getElementById("q").focus();
        },
        { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  /* "Open at" needs its time; picking a time means "open at". */
  document.querySelectorAll("input[name=at]").forEach(function (input) {
    input.addEventListener("input", function () {
      var at = input.form.querySelector("input[name=when][value=at]");
      if (at && input.value) at.checked = true;
    });
  });
})();
