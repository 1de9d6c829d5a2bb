/* The coverage-gap map: each ~1 km area of demand with no station within the radius as a circle
   (its area grows with the demand), and the outlets the plan chose as markers. The vendored
   Leaflet of the public map; tiles when YIZHAN_TILE_URL is set, else the province outlines the
   public map also uses (no request beyond this server). */
(function () {
  "use strict";
  var element = document.getElementById("gap-map");
  if (!element || !window.L) return;
  var config = JSON.parse(document.getElementById("gap-map-config").textContent);
  var text = function (name) { return element.getAttribute("data-" + name); };
  L.Icon.Default.imagePath = config.iconPath;
  var map = L.map(element, { zoomControl: false, maxZoom: 18, minZoom: 3 });
  L.control.zoom({ zoomInTitle: text("zoom-in"), zoomOutTitle: text("zoom-out") }).addTo(map);
  map.attributionControl.setPrefix(false);
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.attribution, maxZoom: 18 }).addTo(map);
  } else {
    fetch(config.basemapUrl + "provinces.json").then(function (r) { return r.json(); }).then(function (data) {
      L.geoJSON(data, { interactive: false, style: { color: "#7d8a96", weight: 1.2, fillColor: "#f4f1ea", fillOpacity: 1 } })
        .addTo(map).bringToBack();
    }).catch(function () {});
  }
  function escape(value) {
    var div = document.createElement("div");
    div.textContent = String(value);
    return div.innerHTML;
  }
  var heaviest = config.cells.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
  var points = [];
  config.cells.forEach(function (c) {
    var nearest = c[3] === null ? text("none") : c[3] + " m";
    L.circleMarker([c[0], c[1]], {
      radius: 4 + 14 * Math.sqrt(c[2] / heaviest), color: "#b3261e", weight: 1, fillColor: "#e4572e", fillOpacity: 0.55
    }).bindPopup(
      escape(text("weight")) + ": " + escape(c[2]) + "<br>" + escape(text("nearest")) + ": " + escape(nearest) +
      '<br><a href="' + config.list + "?lat=" + c[0].toFixed(4) + "&lng=" + c[1].toFixed(4) + '">' + escape(text("show")) + "</a>"
    ).addTo(map);
    points.push([c[0], c[1]]);
  });
  config.outlets.forEach(function (o, i) {
    L.marker([o[0], o[1]], { title: o[2], alt: o[2] })
      .bindPopup("#" + (i + 1) + " " + escape(o[2]) + "<br>" + escape(text("covered")) + ": " + escape(o[3]))
      .addTo(map);
    points.push([o[0], o[1]]);
  });
  if (points.length) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 13 });
  } else {
    map.setView([35, 105], 4);
  }
})();
