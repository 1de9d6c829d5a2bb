/* The map: Leaflet with clustered markers for the visible area. Coordinates arrive in the tiles'
   system (GCJ-02 for Amap / Tencent tiles), so markers sit on the right street. Without a tile
   server the vendored outlines (basemap/, WGS-84 like the markers) orient the visitor: provinces
   at the national view, a province's cities from zoom 7, a city's districts from zoom 10, each
   file fetched once and only when its area is in view. */
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || !window.L) return;
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var status = document.getElementById("map-status");
  L.Icon.Default.imagePath = element.getAttribute("data-icons");
  var map = L.map(element, { zoomControl: false, maxZoom: 18, minZoom: 3 });
  // The zoom buttons' titles in the page's language (Leaflet's own are English).
  L.control.zoom({
    zoomInTitle: element.getAttribute("data-zoom-in"),
    zoomOutTitle: element.getAttribute("data-zoom-out"),
  }).addTo(map);
  // No "Leaflet" prefix and flag: only the tile provider's own attribution shows.
  map.attributionControl.setPrefix(false);
  if (config.bounds) {
    map.fitBounds(config.bounds, { padding: [16, 16], maxZoom: 12 });
  } else {
    map.setView(config.center, config.zoom);
  }
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.attribution, maxZoom: 18 }).addTo(map);
  } else {
    basemap();
  }
  if (config.you) {
    L.circleMarker(config.you, { radius: 8, color: "#0b57a4", fillOpacity: 0.6 }).addTo(map);
  }
  var cluster = L.markerClusterGroup({ chunkedLoading: true });
  map.addLayer(cluster);
  var pending = null;
  var shown = {};

  function escape(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function basemap() {
    map.createPane("areas").style.zIndex = 250;
    map.createPane("area-labels").style.zIndex = 350;
    map.getPane("area-labels").style.pointerEvents = "none";
    var loaded = {};
    // level: 0 provinces, 1 cities of a province, 2 districts of a city
    var styles = [
      { color: "#7d8a96", weight: 1.5, fillColor: "#f4f1ea", fillOpacity: 1 },
      { color: "#9aa5b0", weight: 1, fill: false, dashArray: "4 3" },
      { color: "#b3bcc5", weight: 0.8, fill: false, dashArray: "2 3" }
    ];
    var minZoom = [0, 7, 10];
    var labels = [L.layerGroup(), L.layerGroup(), L.layerGroup()];

    function fetchLevel(path, level) {
      if (loaded[path]) return;
      loaded[path] = true;
      fetch(config.basemapUrl + path)
        .then(function (response) { return response.json(); })
        .then(function (data) {
          L.geoJSON(data, { pane: "areas", interactive: false, style: styles[level] }).addTo(map);
          data.features.forEach(function (feature) {
            var p = feature.properties;
            p.level = level;
            children.push(p);
            var label = L.marker([p.label[1], p.label[0]], {
              pane: "area-labels", interactive: false, keyboard: false,
              icon: L.divIcon({ className: "area-label area-label-" + level, html: escape(p.name), iconSize: null })
            });
            labels[level].addLayer(label);
          });
          refresh();
        })
        .catch(function () { loaded[path] = false; });
    }

    var children = [];
    function refresh() {
      var zoom = map.getZoom();
      var view = map.getBounds();
      labels.forEach(function (group, level) {
        var show = zoom >= minZoom[level] && (level !== 0 || zoom < minZoom[1]);
        if (show && !map.hasLayer(group)) group.addTo(map);
        if (!show && map.hasLayer(group)) map.removeLayer(group);
      });
      children.forEach(function (p) {
        if (!p.detail || p.level > 1 || zoom < minZoom[p.level + 1]) return;
        var box = L.latLngBounds([p.bbox[1], p.bbox[0]], [p.bbox[3], p.bbox[2]]);
        if (box.intersects(view)) fetchLevel((p.level === 0 ? "p/" : "c/") + p.code + ".json", p.level + 1);
      });
    }
    map.on("moveend", refresh);
    fetchLevel("provinces.json", 0);
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
        // Only what changed is swapped: a marker whose popup is open (the popup's own pan
        // moves the map) stays, and its popup with it.
        var next = {};
        var added = [];
        (data.markers || []).forEach(function (m) {
          var key = m.join("|");
          if (shown[key]) {
            next[key] = shown[key];
            return;
          }
          var label = m[4] ? element.getAttribute("data-open") : element.getAttribute("data-closed");
          next[key] = L.marker([m[2], m[3]], { title: m[1], alt: m[1] }).bindPopup(
            '<a href="/s/' + encodeURIComponent(m[0]) + '">' + escape(m[1]) + "</a><br>" + escape(label)
          );
          added.push(next[key]);
        });
        cluster.removeLayers(Object.keys(shown).filter(function (key) { return !next[key]; })
          .map(function (key) { return shown[key]; }));
        cluster.addLayers(added);
        shown = next;
        element.setAttribute("data-markers", String(Object.keys(shown).length));
        status.textContent = data.total > Object.keys(shown).length ? element.getAttribute("data-more") : "";
      })
      .catch(function () {});
  }

  /* Ticking a filter redraws the markers at once and writes the filters into the address bar,
     so that a shared link (and the way back to the list) keeps them. */
  var form = document.getElementById("map-filters");
  if (form) {
    form.addEventListener("change", function () {
      var query = new URLSearchParams();
      var filters = {};
      new FormData(form).forEach(function (value, name) {
        if (value === "" || (name === "when" && value === "any")) return;
        query.append(name, value);
      });
      var when = query.get("when");
      var at = query.get("at");
      if (when !== "at") query.delete("at");
      query.getAll("facility").length && (filters.facility = query.getAll("facility"));
      query.getAll("theme").length && (filters.theme = query.getAll("theme"));
      if (when === "now" || (when === "at" && at)) filters.open_now = "true";
      if (when === "at" && at) filters.at = at;
      config.filters = filters;
      var text = query.toString();
      history.replaceState(null, "", window.location.pathname + (text ? "?" + text : ""));
      var back = document.getElementById("back-to-list");
      if (back) back.href = element.getAttribute("data-list") + (text ? "?" + text : "");
      load();
    });
  }

  map.on("moveend", load);
  load();
})();
