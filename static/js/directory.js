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

  // On a phone the filter panel starts folded unless filters are active.
  if (window.matchMedia("(max-width: 50rem)").matches) {
    document.querySelectorAll("details[data-collapse-on-phone=true]").forEach(function (details) {
      details.open = false;
    });
  }

  if (typeof L === "undefined") { return; }
  document.querySelectorAll("[data-map]").forEach(function (section) {
    var points = JSON.parse(section.dataset.points);
    var approxLabel = section.dataset.approxLabel;
    section.hidden = false;
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
    if (bounds.length === 1) { map.setView(bounds[0], 14); } else { map.fitBounds(bounds, { padding: [20, 20] }); }
  });
})();
