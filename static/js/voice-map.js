/* Residents' voices: progressive enhancement with Leaflet, settings read from data attributes (no inline
 * script, as the Content-Security-Policy wants).
 *
 * - #voice-map (a voice's page): a small map with the voice's point. The text with the point and the
 *   OpenStreetMap link stays above it; without Leaflet or tiles the map is never shown.
 * - #point-picker (the voice form): clicking or tapping the map places a marker and fills the latitude and
 *   longitude fields, which stay visible and are what the form sends; typing in them moves the marker.
 *   Buttons put the point at the centre of the chosen area, or clear it. Clicks outside the bounds the form
 *   accepts are refused with a spoken note. Without Leaflet or tiles the form is the plain one.
 * If a tile fails to load, the map is removed again and the page is as without it. Text is only ever set
 * as text, never as HTML. */
(function () {
  "use strict";

  var WARD_CENTRE = [35.7656, 139.6807];

  function tilesOn(L, map, holder, onFail) {
    var failed = false;
    var tiles = L.tileLayer(holder.dataset.tileUrl, { maxZoom: 19, attribution: "" });
    tiles.on("tileerror", function () {
      if (failed) {
        return;
      }
      failed = true;
      map.remove();
      onFail();
    });
    tiles.addTo(map);
    // The attribution is plain text from the settings: set it as text, never as HTML.
    var credit = L.control({ position: "bottomright" });
    credit.onAdd = function () {
      var box = L.DomUtil.create("div", "leaflet-control-attribution");
      box.textContent = holder.dataset.attribution || "";
      return box;
    };
    credit.addTo(map);
  }

  function showVoice(L) {
    var holder = document.getElementById("voice-map");
    if (!holder || !holder.dataset.tileUrl) {
      return;
    }
    var lat = parseFloat(holder.dataset.lat);
    var lng = parseFloat(holder.dataset.lng);
    if (!isFinite(lat) || !isFinite(lng)) {
      return;
    }
    holder.hidden = false;
    var map = L.map(holder, { scrollWheelZoom: false, attributionControl: false }).setView([lat, lng], 16);
    tilesOn(L, map, holder, function () {
      holder.hidden = true;
    });
    var label = holder.dataset.markerLabel || "";
    L.marker([lat, lng], { keyboard: false, title: label, alt: label }).addTo(map);
  }

  function pickPoint(L) {
    var holder = document.getElementById("point-picker");
    var canvas = document.getElementById("point-picker-map");
    var latField = document.getElementById("field-latitude");
    var lngField = document.getElementById("field-longitude");
    if (!holder || !canvas || !latField || !lngField || !holder.dataset.tileUrl) {
      return;
    }
    var bounds = {
      latMin: parseFloat(holder.dataset.latMin), latMax: parseFloat(holder.dataset.latMax),
      lngMin: parseFloat(holder.dataset.lngMin), lngMax: parseFloat(holder.dataset.lngMax)
    };
    var centres = {};
    try {
      centres = JSON.parse(holder.dataset.centres || "{}");
    } catch (error) {
      centres = {};
    }
    var status = document.getElementById("point-picker-status");
    var label = holder.dataset.markerLabel || "";
    var marker = null;
    var gone = false;

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    function inside(lat, lng) {
      return isFinite(lat) && isFinite(lng) && lat >= bounds.latMin && lat <= bounds.latMax &&
        lng >= bounds.lngMin && lng <= bounds.lngMax;
    }

    holder.hidden = false;
    var map = L.map(canvas, {
      scrollWheelZoom: false, attributionControl: false,
      maxBounds: [[bounds.latMin, bounds.lngMin], [bounds.latMax, bounds.lngMax]], maxBoundsViscosity: 0.8
    });

    function showMarker(lat, lng) {
      if (marker) {
        marker.setLatLng([lat, lng]);
      } else {
        marker = L.marker([lat, lng], { keyboard: false, title: label, alt: label }).addTo(map);
      }
    }

    function removeMarker() {
      if (marker) {
        marker.remove();
        marker = null;
      }
    }

    function place(lat, lng) {
      if (gone) {
        return;
      }
      if (!inside(lat, lng)) {
        say(holder.dataset.textOutside || "");
        return;
      }
      var latText = lat.toFixed(6);
      var lngText = lng.toFixed(6);
      latField.value = latText;
      lngField.value = lngText;
      showMarker(lat, lng);
      say((holder.dataset.textPlaced || "").replace("{lat}", latText).replace("{lng}", lngText));
    }

    // The fields are authoritative: what is typed moves the marker (or removes it while incomplete).
    function follow() {
      var lat = parseFloat(latField.value);
      var lng = parseFloat(lngField.value);
      if (gone) {
        return;
      }
      if (latField.value.trim() && lngField.value.trim() && inside(lat, lng)) {
        showMarker(lat, lng);
        map.panTo([lat, lng]);
      } else {
        removeMarker();
      }
    }

    tilesOn(L, map, holder, function () {
      gone = true;
      holder.hidden = true;
      marker = null;
    });
    map.on("click", function (event) {
      place(event.latlng.lat, event.latlng.lng);
    });
    latField.addEventListener("input", follow);
    lngField.addEventListener("input", follow);

    document.getElementById("point-picker-centre").addEventListener("click", function () {
      var area = document.getElementById("field-area");
      var centre = (area && centres[area.value]) || WARD_CENTRE;
      place(centre[0], centre[1]);
      map.setView(centre, 15);
    });
    document.getElementById("point-picker-clear").addEventListener("click", function () {
      if (gone) {
        return;
      }
      latField.value = "";
      lngField.value = "";
      removeMarker();
      say(holder.dataset.textCleared || "");
    });

    var lat = parseFloat(latField.value);
    var lng = parseFloat(lngField.value);
    if (inside(lat, lng)) {
      map.setView([lat, lng], 16);
      showMarker(lat, lng);
    } else {
      map.setView(WARD_CENTRE, 13);
    }
  }

  function start() {
    if (typeof window.L === "undefined") {
      return;
    }
    var L = window.L;
    var holder = document.getElementById("voice-map") || document.getElementById("point-picker");
    if (holder && holder.dataset.iconPath) {
      L.Icon.Default.imagePath = holder.dataset.iconPath;
    }
    showVoice(L);
    pickPoint(L);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
