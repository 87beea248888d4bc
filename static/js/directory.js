// Progressive enhancement for the directory: the lists work without this file.
(function () {
  "use strict";

  // Filters apply as soon as a box is ticked; the button stays for keyboard and no-JS use.
  // The page reloads, so the box (or the sort choice) just used gets the focus back: a
  // keyboard user goes on from where they were instead of from the top of the page.
  var FOCUS_KEY = "registry.filter-focus";
  document.querySelectorAll("form.filters").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var control = event.target;
      try {
        sessionStorage.setItem(FOCUS_KEY, JSON.stringify({
          path: location.pathname, name: control.name, value: control.type === "checkbox" ? control.value : null
        }));
      } catch (e) { /* storage refused (private mode): the filter still applies */ }
      form.submit();
    });
  });
  try {
    var used = JSON.parse(sessionStorage.getItem(FOCUS_KEY) || "null");
    sessionStorage.removeItem(FOCUS_KEY);
    if (used && used.path === location.pathname) {
      var again = Array.prototype.find.call(
        document.querySelectorAll("form.filters [name]"),
        function (el) { return el.name === used.name && (used.value === null || el.value === used.value); }
      );
      if (again) { again.focus(); }
    }
  } catch (e) { /* no storage: focus starts at the top, as without this script */ }

  // Beside the results site.css shows the filter panel open whatever its state: say so to
  // assistive technology too, and keep a click on its heading from folding it out of sync.
  var wide = window.matchMedia("(min-width: 50rem)");
  document.querySelectorAll("details.filter-panel").forEach(function (details) {
    if (wide.matches) { details.open = true; }
    details.querySelector("summary").addEventListener("click", function (event) {
      if (wide.matches) { event.preventDefault(); }
    });
  });

  // The link near the result count leads to the download panel: open it on arrival.
  function openTarget(id) {
    var target = document.getElementById(id);
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  document.querySelectorAll("a[data-opens]").forEach(function (link) {
    link.addEventListener("click", function () { openTarget(link.dataset.opens); });
  });
  if (location.hash) { openTarget(location.hash.slice(1)); }

  // "Alle scholen" on a school page goes back to the parent's last search, not an empty one.
  var SEARCH_KEY = "registry.last-search";
  try {
    if (location.pathname === "/scholen") {
      sessionStorage.setItem(SEARCH_KEY, location.pathname + location.search);
    }
    var lastSearch = sessionStorage.getItem(SEARCH_KEY);
    if (lastSearch) {
      document.querySelectorAll("a[data-last-search]").forEach(function (link) {
        link.href = lastSearch;
      });
    }
  } catch (e) { /* no storage: the link goes to the full list, as without this script */ }

  // Leaflet is fetched only when a map comes near the screen (its room is kept by site.css).
  var maps = document.querySelectorAll("[data-map]");
  var script = document.currentScript;
  if (!maps.length || !script) { return; }
  var requested = false;
  function loadLeaflet() {
    if (requested) { return; }
    requested = true;
    var pending = 2;
    function ready() {
      pending -= 1;
      if (pending === 0) { drawMaps(); }
    }
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = script.dataset.leafletCss;
    css.onload = ready;
    document.head.appendChild(css);
    var js = document.createElement("script");
    js.src = script.dataset.leafletJs;
    js.onload = ready;
    document.head.appendChild(js);
  }
  if ("IntersectionObserver" in window) {
    var watcher = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        watcher.disconnect();
        loadLeaflet();
      }
    }, { rootMargin: "400px 0px" });
    maps.forEach(function (section) { watcher.observe(section); });
  } else {
    loadLeaflet();
  }

  // The searched postcode's point (templates/directory/_map_origin.html): a red diamond with
  // its name beside it, unlike the schools' blue circles, and the same words as the text.
  var origin = document.querySelector("[data-map-origin]");
  var originAt = origin && [parseFloat(origin.dataset.lat), parseFloat(origin.dataset.lon)];
  function markOrigin(map) {
    var label = origin.dataset.label;
    var marker = L.marker(originAt, {
      icon: L.divIcon({
        className: "map-origin map-origin-" + origin.dataset.precision,
        html: '<span class="map-origin-shape"></span>',
        iconSize: [18, 18]
      }),
      title: label,
      keyboard: false,
      interactive: false,
      zIndexOffset: 1000
    }).addTo(map);
    var icon = marker.getElement();
    icon.setAttribute("role", "img");
    icon.setAttribute("aria-label", label);
    marker.bindTooltip(label, {
      permanent: true, direction: "auto", offset: [10, 0], className: "map-origin-label"
    });
  }

  function drawMaps() {
    maps.forEach(drawMap);
  }

  function drawMap(section) {
    var points = JSON.parse(section.dataset.points);
    var approxLabel = section.dataset.approxLabel;
    var map = L.map(section.querySelector(".map"), { scrollWheelZoom: false });
    L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 18,
      attribution: "&copy; OpenStreetMap"
    }).addTo(map);
    var bounds = [];
    points.forEach(function (point) {
      var marker = L.circleMarker([point.lat, point.lon], {
        radius: 8,
        color: "#0b5394",
        weight: 2,
        fillOpacity: point.approx ? 0 : 0.8,
        dashArray: point.approx ? "3 3" : null
      }).addTo(map);
      var popup = document.createElement("div");
      var link = document.createElement("a");
      link.href = point.url;
      link.textContent = point.name;
      popup.appendChild(link);
      if (point.approx) {
        var note = document.createElement("p");
        note.textContent = approxLabel;
        popup.appendChild(note);
      }
      marker.bindPopup(popup);
      bounds.push([point.lat, point.lon]);
    });
    if (origin) { bounds.push(originAt); }
    if (bounds.length === 1) { map.setView(bounds[0], 14); } else { map.fitBounds(bounds, { padding: [20, 20] }); }
    // After the view is set: a marker's element exists only once the map has one.
    if (origin) { markOrigin(map); }
  }
})();
