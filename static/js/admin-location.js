// A small map under the coordinates of a school: click or drag to correct its location.
// A school without a point has no pin (a pin at a default spot would look placed); a click
// places it.
(function () {
  "use strict";
  var latitude = document.getElementById("latitude");
  var longitude = document.getElementById("longitude");
  var precision = document.getElementById("location_precision");
  if (!latitude || !longitude || typeof L === "undefined") { return; }
  var script = document.currentScript;

  var help = document.createElement("p");
  help.className = "form-text text-muted";
  help.textContent = script.dataset.label;
  var unplaced = document.createElement("p");
  unplaced.className = "form-text location-unplaced";
  unplaced.textContent = script.dataset.unplaced;
  var box = document.createElement("div");
  box.id = "location-map";
  box.style.height = "18rem";
  // The fields above stay the accessible way in; the map is an extra for the mouse, so it takes
  // no keyboard focus of its own (aria-hidden around focusable zoom buttons would hide them).
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", help.textContent);
  var group = longitude.closest(".form-group") || longitude.parentNode;
  group.parentNode.insertBefore(help, group.nextSibling);
  group.parentNode.insertBefore(unplaced, help.nextSibling);
  group.parentNode.insertBefore(box, unplaced.nextSibling);

  function typed() {
    var lat = parseFloat(latitude.value), lon = parseFloat(longitude.value);
    return isFinite(lat) && isFinite(lon) ? L.latLng(lat, lon) : null;
  }

  var start = typed();
  var map = L.map(box, { keyboard: false }).setView(start || [52.7, 6.3], start ? 16 : 10);
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "&copy; OpenStreetMap"
  }).addTo(map);
  var marker = null;

  function show(point) {
    unplaced.hidden = point !== null;
    if (point === null) {
      if (marker) { marker.remove(); marker = null; }
      return;
    }
    if (!marker) {
      marker = L.marker(point, { draggable: true, keyboard: false }).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng()); });
    }
    marker.setLatLng(point);
  }

  function place(point) {
    show(point);
    latitude.value = point.lat.toFixed(6);
    longitude.value = point.lng.toFixed(6);
    if (precision) {
      precision.value = "building";
      precision.dispatchEvent(new Event("change", { bubbles: true }));
      if (window.jQuery) { window.jQuery(precision).trigger("change"); }
    }
  }

  show(start);
  map.on("click", function (event) { place(event.latlng); });
  // Coordinates typed or cleared in the fields move or take away the pin.
  [latitude, longitude].forEach(function (field) {
    field.addEventListener("change", function () { show(typed()); });
  });
})();
