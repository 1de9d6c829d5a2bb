/* The map: Leaflet with clustered markers for the visible area. Coordinates arrive in the tiles'
   system (GCJ-02 for Amap / Tencent tiles), so markers sit on the right street. */
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || !window.L) return;
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var status = document.getElementById("map-status");
  L.Icon.Default.imagePath = element.getAttribute("data-icons");
  var map = L.map(element, { zoomControl: true, maxZoom: 18, minZoom: 3 }).setView(config.center, config.zoom);
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.attribution, maxZoom: 18 }).addTo(map);
  }
  if (config.you) {
    L.circleMarker(config.you, { radius: 8, color: "#0b57a4", fillOpacity: 0.6 }).addTo(map);
  }
  var cluster = L.markerClusterGroup({ chunkedLoading: true });
  map.addLayer(cluster);
  var pending = null;

  function escape(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function load() {
    var bounds = map.getBounds();
    var params = new URLSearchParams({
      south: bounds.getSouth().toFixed(5), west: bounds.getWest().toFixed(5),
      north: bounds.getNorth().toFixed(5), east: bounds.getEast().toFixed(5)
    });
    Object.keys(config.filters).forEach(function (name) {
      var value = config.filters[name];
      (Array.isArray(value) ? value : [value]).forEach(function (v) { params.append(name, v); });
    });
    if (pending) pending.abort();
    pending = new AbortController();
    fetch(config.dataUrl + "?" + params.toString(), { signal: pending.signal, headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        cluster.clearLayers();
        var markers = (data.markers || []).map(function (m) {
          var label = m[4] ? element.getAttribute("data-open") : element.getAttribute("data-closed");
          return L.marker([m[2], m[3]], { title: m[1], alt: m[1] }).bindPopup(
            '<a href="/s/' + encodeURIComponent(m[0]) + '">' + escape(m[1]) + "</a><br>" + escape(label)
          );
        });
        cluster.addLayers(markers);
        element.setAttribute("data-markers", String(markers.length));
        status.textContent = data.total > markers.length ? element.getAttribute("data-more") : "";
      })
      .catch(function () {});
  }

  map.on("moveend", load);
  load();
})();
