/* The map of everything (/map): progressive enhancement of the list of places.
 *
 * The page lists every place without JavaScript. When Leaflet has loaded and tiles are configured, this
 * draws the same places (from the JSON in #map-data: data, not script, as the Content-Security-Policy
 * wants) on a Leaflet map above the list, dense ones gathered in clusters (Leaflet.markercluster). Every
 * marker and cluster is a button reachable with Tab and opened with Enter; the list stays the accessible
 * equivalent. If a tile fails to load (no network, a wrong tile URL), the map is removed again and a note
 * says the list shows everything. Text is only ever set as text, never as HTML; colours are set through
 * the CSSOM (no inline style attributes). */
(function () {
  "use strict";

  var WARD_CENTRE = [35.7656, 139.6807];

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content !== undefined && content !== null) {
      node.textContent = content;
    }
    return node;
  }

  function popupFor(layer, item, text) {
    var box = element("div", "map-popup");
    var title = element("p", "map-popup-title");
    var link = element("a", "", item.title);
    link.href = item.url;
    title.appendChild(link);
    box.appendChild(title);
    var facts = [layer.label, item.status, item.category, item.area].filter(function (fact) { return !!fact; });
    box.appendChild(element("p", "map-popup-meta", facts.join(" · ")));
    if (item.approximate) {
      box.appendChild(element("p", "map-popup-approximate", text.approximate));
    }
    return box;
  }

  function markerIcon(L, layer, item) {
    var symbol = element("span", "map-marker-symbol", layer.symbol);
    symbol.setAttribute("aria-hidden", "true");
    symbol.style.backgroundColor = layer.colour;
    return L.divIcon({
      className: "map-marker map-marker-" + layer.name + (item.approximate ? " is-approximate" : ""),
      html: symbol,
      iconSize: [30, 30],
      iconAnchor: [15, 15],
      popupAnchor: [0, -15]
    });
  }

  function clusterIcon(L, text) {
    return function (cluster) {
      var count = cluster.getChildCount();
      var box = element("span", "map-cluster-inner");
      var shown = element("span", "", String(count));
      shown.setAttribute("aria-hidden", "true");
      box.appendChild(shown);
      box.appendChild(element("span", "visually-hidden", text.cluster.replace("%(count)s", String(count))));
      return L.divIcon({ html: box, className: "map-cluster", iconSize: L.point(40, 40) });
    };
  }

  function start() {
    var source = document.getElementById("map-data");
    var view = document.getElementById("map-view");
    var canvas = document.getElementById("map-canvas");
    if (!source || !view || !canvas || typeof window.L === "undefined") {
      return;
    }
    var data;
    try {
      data = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    if (!data.tiles) {
      return;
    }
    var L = window.L;
    view.hidden = false;
    Array.prototype.forEach.call(view.querySelectorAll(".map-symbol[data-colour]"), function (symbol) {
      symbol.style.color = symbol.dataset.colour;
    });

    var map = L.map(canvas, { scrollWheelZoom: false, attributionControl: false });
    var failed = false;
    var tiles = L.tileLayer(data.tiles, { maxZoom: 19, attribution: "" });
    tiles.on("tileerror", function () {
      if (failed) {
        return;
      }
      failed = true;
      map.remove();
      view.hidden = true;
      view.classList.add("has-failed");
      var fallback = document.getElementById("map-fallback");
      if (fallback) {
        fallback.hidden = false;
      }
    });
    tiles.on("load", function () {
      view.classList.add("has-loaded");
    });

    // The attribution is plain text from the settings: set it as text, never as HTML.
    var credit = L.control({ position: "bottomright" });
    credit.onAdd = function () {
      return element("div", "leaflet-control-attribution", data.attribution || "");
    };
    credit.addTo(map);

    var group = typeof L.markerClusterGroup === "function"
      ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40, spiderfyOnMaxZoom: true,
                               iconCreateFunction: clusterIcon(L, data.text) })
      : L.featureGroup();
    var points = [];
    data.layers.forEach(function (layer) {
      layer.items.forEach(function (item) {
        var name = layer.label + ": " + item.title + (item.approximate ? " (" + data.text.approximate + ")" : "");
        var marker = L.marker([item.lat, item.lng], {
          icon: markerIcon(L, layer, item), keyboard: true, title: name, alt: name, riseOnHover: true
        });
        marker.bindPopup(popupFor(layer, item, data.text));
        marker.on("add", function () {
          var icon = marker.getElement();
          if (icon) {
            icon.setAttribute("aria-label", name);
            icon.dataset.layer = layer.name;
          }
        });
        group.addLayer(marker);
        points.push([item.lat, item.lng]);
      });
    });
    group.addTo(map);
    tiles.addTo(map);
    if (points.length) {
      map.fitBounds(points, { padding: [30, 30], maxZoom: 16 });
    } else {
      map.setView(WARD_CENTRE, 13);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
