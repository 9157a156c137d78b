// Address search as you type (/api/v1/places/search) for any input marked data-address,
// and a Leaflet map (.map[data-tiles]) to drop a pin on (#lat/#long, the nearest address
// from /api/v1/places/reverse) or to show points. Used by the resident portal and the agent
// desktop; every page works without this file and without map tiles: the address is enough.
(function () {
  "use strict";
  var maps = {};
  function setPin(id, lat, lng) {
    var m = maps[id];
    if (!m) return;
    if (m.marker) m.marker.setLatLng([lat, lng]); else m.marker = L.marker([lat, lng]).addTo(m.map);
    m.map.setView([lat, lng], Math.max(m.map.getZoom(), 17));
  }
  function setField(id, value) { var el = document.getElementById(id); if (el) el.value = value; }

  document.querySelectorAll("[data-address]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var found = {}, timer = null;
    input.addEventListener("input", function () {
      var value = input.value;
      if (found[value]) {  // a suggestion was chosen: its point is known
        setField("lat", found[value].lat); setField("long", found[value].long);
        if (input.dataset.pin) setPin(input.dataset.pin, found[value].lat, found[value].long);
        return;
      }
      setField("lat", ""); setField("long", "");
      clearTimeout(timer);
      if (value.trim().length < 2) return;
      timer = setTimeout(function () {
        fetch("/api/v1/places/search?q=" + encodeURIComponent(value))
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (rows) {
            list.textContent = "";
            rows.forEach(function (row) {
              found[row.address] = row;
              var opt = document.createElement("option");
              opt.value = row.address;
              list.appendChild(opt);
            });
          }).catch(function () {});
      }, 150);
    });
  });

  if (!window.L) return;  // no Leaflet installed: addresses only
  document.querySelectorAll(".map[data-tiles]").forEach(function (el) {
    var status = document.getElementById(el.id + "-status");
    var map = L.map(el, {scrollWheelZoom: false}).setView(JSON.parse(el.dataset.center),
                                                          Number(el.dataset.zoom));
    maps[el.id] = {map: map, marker: null};
    var failed = false;
    L.tileLayer(el.dataset.tiles, {attribution: el.dataset.attribution, maxZoom: 19})
      .on("tileerror", function () {
        if (failed) return;
        failed = true;
        el.classList.add("no-tiles");
        if (status) status.textContent = el.dataset.unavailable;
      }).addTo(map);
    var lats = el.dataset.points ? JSON.parse(el.dataset.points) : [];
    var longs = el.dataset.pointsLong ? JSON.parse(el.dataset.pointsLong) : [];
    // optional weights (a hot spot's count: the circle's area grows with it) and labels
    var weights = el.dataset.pointsWeight ? JSON.parse(el.dataset.pointsWeight) : [];
    var labels = el.dataset.pointsLabel ? JSON.parse(el.dataset.pointsLabel) : [];
    var most = Math.max.apply(null, weights.concat([1]));
    lats.forEach(function (lat, i) {
      var radius = weights.length ? 4 + 16 * Math.sqrt(weights[i] / most) : 6;
      var marker = L.circleMarker([lat, longs[i]], {radius: radius}).addTo(map);
      if (labels[i]) marker.bindTooltip(labels[i]);
    });
    if (weights.length) map.fitBounds(lats.map(function (lat, i) { return [lat, longs[i]]; }),
                                      {padding: [20, 20], maxZoom: 17});
    if (el.id !== "pin") return;
    var lat0 = document.getElementById("lat").value, long0 = document.getElementById("long").value;
    if (lat0 && long0) setPin("pin", Number(lat0), Number(long0));
    map.on("click", function (e) {
      var lat = e.latlng.lat.toFixed(6), lng = e.latlng.lng.toFixed(6);
      setPin("pin", lat, lng);
      setField("lat", lat); setField("long", lng);
      fetch("/api/v1/places/reverse?lat=" + lat + "&long=" + lng)
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (near) {
          if (near.address) {
            document.getElementById("address").value = near.address;
            if (status) status.textContent = el.dataset.pinned;
          }
        }).catch(function () {});
    });
  });
})();
