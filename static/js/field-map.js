/* Progressive enhancement of a test field's location: a Leaflet map in #field-map.
 * The page already shows the address and a link to OpenStreetMap; the map only adds to them.
 * If Leaflet did not load, or the tiles cannot be fetched (tileerror), the map is removed again. */
(function () {
  "use strict";

  function start() {
    var element = document.getElementById("field-map");
    if (!element || typeof window.L === "undefined") {
      return;
    }
    var lat = parseFloat(element.dataset.lat);
    var lng = parseFloat(element.dataset.lng);
    var tiles = element.dataset.tileUrl;
    if (!isFinite(lat) || !isFinite(lng) || !tiles) {
      return;
    }
    var L = window.L;
    if (element.dataset.iconPath) {
      L.Icon.Default.imagePath = element.dataset.iconPath;
    }
    element.classList.add("is-active");
    var map = L.map(element, { scrollWheelZoom: false, attributionControl: false }).setView([lat, lng], 17);
    var failed = false;
    var layer = L.tileLayer(tiles, { maxZoom: 19, attribution: "" });
    layer.on("tileerror", function () {
      if (failed) {
        return;
      }
      failed = true;
      map.remove();
      element.classList.remove("is-active");
      element.removeAttribute("role");
      element.removeAttribute("aria-label");
    });
    layer.addTo(map);
    // The attribution is plain text from the settings: set it as text, never as HTML.
    var credit = L.control({ position: "bottomright" });
    credit.onAdd = function () {
      var box = L.DomUtil.create("div", "leaflet-control-attribution");
      box.textContent = element.dataset.attribution || "";
      return box;
    };
    credit.addTo(map);
    var marker = L.marker([lat, lng], { keyboard: true, title: element.dataset.label || "", alt: element.dataset.label || "" });
    marker.addTo(map);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
