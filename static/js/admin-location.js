// A small map under the coordinates of a school: click or drag to correct its location.
(function () {
  "use strict";
  var latitude = document.getElementById("latitude");
  var longitude = document.getElementById("longitude");
  var precision = document.getElementById("location_precision");
  if (!latitude || !longitude || typeof L === "undefined") { return; }

  var help = document.createElement("p");
  help.className = "form-text text-muted";
  help.textContent = document.currentScript.dataset.label;
  var box = document.createElement("div");
  box.id = "location-map";
  box.style.height = "18rem";
  // The fields above stay the accessible way in; the map is an extra for the mouse, so it takes
  // no keyboard focus of its own (aria-hidden around focusable zoom buttons would hide them).
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", help.textContent);
  var group = longitude.closest(".form-group") || longitude.parentNode;
  group.parentNode.insertBefore(help, group.nextSibling);
  group.parentNode.insertBefore(box, help.nextSibling);

  var known = latitude.value && longitude.value;
  var start = known ? [parseFloat(latitude.value), parseFloat(longitude.value)] : [52.7, 6.3];
  var map = L.map(box, { keyboard: false }).setView(start, known ? 16 : 10);
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "&copy; OpenStreetMap"
  }).addTo(map);
  var marker = L.marker(start, { draggable: true, keyboard: false }).addTo(map);

  function place(point) {
    marker.setLatLng(point);
    latitude.value = point.lat.toFixed(6);
    longitude.value = point.lng.toFixed(6);
    if (precision) {
      precision.value = "building";
      precision.dispatchEvent(new Event("change", { bubbles: true }));
      if (window.jQuery) { window.jQuery(precision).trigger("change"); }
    }
  }
  marker.on("dragend", function () { place(marker.getLatLng()); });
  map.on("click", function (event) { place(event.latlng); });
})();
