// Live updating of the webhook list: poll the first page as JSON every few seconds and add new rows.
// Rows are built with textContent only: payload text never becomes markup.
(function () {
  "use strict";
  var table = document.getElementById("webhooks");
  if (!table || !table.dataset.live) { return; }
  var body = table.tBodies[0];
  var note = document.getElementById("live-note");
  if (note) { note.hidden = false; }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    if (text !== null) { td.textContent = text; }
    tr.appendChild(td);
    return td;
  }
  function pill(td, text, cls) {
    var s = document.createElement("span");
    s.className = "pill " + (cls || "");
    s.textContent = text;
    td.appendChild(document.createTextNode(" "));
    td.appendChild(s);
  }
  function when(ts) {
    return new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 19);
  }
  function row(w) {
    var tr = document.createElement("tr");
    tr.dataset.id = w.id;
    tr.className = "fresh";
    var a = document.createElement("a");
    a.href = table.dataset.detail + encodeURIComponent(w.id);
    a.textContent = when(w.received_at);
    cell(tr, null, "nowrap").appendChild(a);
    var ev = cell(tr, null);
    var code = document.createElement("code");
    code.textContent = w.resource + "." + w.action;
    ev.appendChild(code);
    if (w.duplicate) { pill(ev, "duplicate"); }
    if (w.pending) { pill(ev, "pending", "s-queued"); }
    cell(tr, w.title, "title");
    cell(tr, w.project);
    cell(tr, w.matched.length ? w.matched.join(", ") : "\u2014");
    var n = cell(tr, null);
    var keys = Object.keys(w.notifications).sort();
    if (!keys.length) { n.textContent = "none"; n.className = "muted"; }
    keys.forEach(function (k) { pill(n, w.notifications[k] + " " + k, "s-" + k); });
    return tr;
  }
  function refresh() {
    fetch(table.dataset.live, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        if (!page) { return; }
        var seen = {};
        Array.prototype.forEach.call(body.rows, function (tr) { if (tr.dataset.id) { seen[tr.dataset.id] = tr; } });
        var empty = body.querySelector("tr.empty");
        var first = body.firstChild;
        page.items.forEach(function (w) {
          var fresh = row(w);
          if (seen[w.id]) {
            fresh.className = "";
            body.replaceChild(fresh, seen[w.id]);
          } else {
            if (empty) { empty.remove(); empty = null; }
            body.insertBefore(fresh, first);
          }
        });
      })
      .catch(function () { /* the next poll tries again */ });
  }
  setInterval(refresh, 2000);
}());
