/* Draws the plotly charts of a page from their JSON data islands:
 *   <div data-chart="some-id"></div> <script id="some-id" type="application/json">{…}</script>
 * Loaded with `defer` after plotly.min.js, so the page renders before the chart is drawn. */
(function () {
  "use strict";

  function draw(element) {
    var island = document.getElementById(element.getAttribute("data-chart"));
    if (!island || typeof window.Plotly === "undefined") return;
    var figure = JSON.parse(island.textContent);
    element.classList.add("chart--ready");
    window.Plotly.newPlot(element, figure.data, figure.layout, figure.config);
  }

  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
