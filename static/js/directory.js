// Progressive enhancement for the directory: the lists work without this file.
(function () {
  "use strict";

  // Filters apply as soon as a box is ticked; the button stays for keyboard and no-JS use.
  document.querySelectorAll("form.filters").forEach(function (form) {
    form.addEventListener("change", function () { form.submit(); });
  });

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
