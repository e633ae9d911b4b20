// The booking engine's inline embed (docs/embedding.md). No dependencies. Paste into your page:
//   <div data-booking-page="https://book.example.org/book/jane-doe"></div>
//   <script src="https://book.example.org/embed.js" async></script>
// Each element with data-booking-page gets a frame of that page (on this script's own site only),
// sized to its content: the framed page posts its height, and only its messages are believed.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var origin = new URL(script.src).origin;
  var MAX_HEIGHT = 20000;
  var frames = [];

  function embed(holder) {
    var url;
    try { url = new URL(holder.getAttribute("data-booking-page"), origin); } catch (e) { return; }
    if (url.origin !== origin) { return; }
    var frame = document.createElement("iframe");
    frame.src = url.href;
    frame.title = holder.getAttribute("data-title") || "Book a session";
    frame.style.width = "100%";
    frame.style.minHeight = "320px";
    frame.style.height = "720px";
    frame.style.border = "0";
    holder.appendChild(frame);
    frames.push(frame);
  }

  function embedAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-booking-page]"), function (holder) {
      if (holder.getAttribute("data-booking-embedded") === null) {
        holder.setAttribute("data-booking-embedded", "");
        embed(holder);
      }
    });
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.type !== "booking-engine:height") { return; }
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0) { return; }
    frames.forEach(function (frame) {
      if (frame.contentWindow === event.source) {
        frame.style.height = Math.min(Math.ceil(height), MAX_HEIGHT) + "px";
      }
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", embedAll);
  } else {
    embedAll();
  }
})();
