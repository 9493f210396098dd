// The dashboard's only script (same origin, no inline code, so the CSP needs no exception).
"use strict";

// Every time is written in UTC by the server; add the reader's local time beside it.
function addLocalTimes(root) {
  for (const t of root.querySelectorAll("time[datetime]:not([data-local])")) {
    const d = new Date(t.getAttribute("datetime"));
    if (isNaN(d)) continue;
    t.setAttribute("data-local", "1");
    const local = document.createElement("span");
    local.className = "local";
    local.textContent = "(" + d.toLocaleString() + " local)";
    t.after(local);
  }
}

// The live page: the event stream over SSE, newest first, pausable; values are set as text, never as HTML.
function startLive(body) {
  const toggle = document.getElementById("live-toggle");
  const status = document.getElementById("live-status");
  let paused = false;
  let held = [];
  const source = new EventSource(body.dataset.stream);
  const show = (e) => {
    let event;
    try { event = JSON.parse(e.data); } catch { return; }
    const row = document.createElement("tr");
    const cells = [e.lastEventId, event.time || "", event.type || "", event.subject || (event.data && event.data.jobId) || "", (event.data && event.data.status) || ""];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = String(text);
      row.appendChild(td);
    }
    body.prepend(row);
    while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
  };
  const showHeld = () => { status.textContent = "Paused (" + held.length + " waiting)"; };
  const onEvent = (e) => {
    if (!paused) { show(e); return; }
    held.push(e);
    showHeld();
  };
  for (const type of ["video.extension.submitted", "video.extension.progress", "video.extension.completed", "video.extension.failed", "video.extension.archived"]) {
    source.addEventListener(type, onEvent);
  }
  source.onmessage = onEvent;
  source.onopen = () => { status.textContent = paused ? "Paused" : "Live"; };
  source.onerror = () => { status.textContent = "Reconnecting…"; };
  toggle.addEventListener("click", () => {
    paused = !paused;
    toggle.setAttribute("aria-pressed", String(paused));
    toggle.textContent = paused ? "Resume" : "Pause";
    if (paused) { showHeld(); return; }
    status.textContent = "Live";
    held.forEach(show);
    held = [];
  });
}

document.addEventListener("DOMContentLoaded", () => {
  addLocalTimes(document);
  const live = document.getElementById("live");
  if (live) startLive(live);
});
