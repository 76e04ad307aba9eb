/* hotro desk, figures tab: the charts (drawn as SVG by the server, GET /api/charts), each with what it
   measures and a CSV of its numbers. Plain JavaScript, no chart library. The SVG comes from our own server and
   holds no script; it is parsed as SVG (never as HTML) and its texts were escaped when it was drawn. */
(function () {
  "use strict";
  var D = window.hotroDesk;
  var box = document.getElementById("kpi-charts");
  if (!D || !box) return;
  var T = D.EN ? {csv: "Numbers (CSV)", failed: "Could not draw this chart: "}
               : {csv: "Số liệu (CSV)", failed: "Không vẽ được biểu đồ này: "};
  var lang = D.EN ? "en" : "vi";
  var shown = 0;  // the latest request wins when the period changes twice quickly

  function days() { return document.getElementById("kpi-period").elements.days.value; }
  function query() { return "?days=" + encodeURIComponent(days()) + "&lang=" + lang; }

  function draw(holder, chart) {
    var svg = new DOMParser().parseFromString(chart.svg, "image/svg+xml").documentElement;
    if (svg.nodeName !== "svg") { holder.textContent = T.failed + chart.title; return; }
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    holder.appendChild(document.importNode(svg, true));
  }

  function figure(chart) {
    var node = D.el("figure", {"class": "chart", "id": "chart-" + chart.id});
    var caption = D.el("figcaption");
    caption.appendChild(D.el("strong", {}, chart.title));
    var link = D.el("a", {"href": "/api/charts/" + chart.id + ".csv" + query(), "download": "", "class": "csv"}, T.csv);
    caption.appendChild(document.createTextNode(" "));
    caption.appendChild(link);
    node.appendChild(caption);
    var holder = D.el("div", {"class": "chart-svg"});
    node.appendChild(holder);
    node.appendChild(D.el("p", {"class": "definition"}, chart.definition));
    draw(holder, chart);
    return node;
  }

  function showFigures() {
    var request = ++shown;
    return D.api("GET", "/api/charts" + query()).then(function (data) {
      if (request !== shown) return;
      D.clear(box);
      data.charts.forEach(function (chart) { box.appendChild(figure(chart)); });
    }).catch(D.failed);
  }

  document.getElementById("kpi-period").addEventListener("change", showFigures);
  D.showFigures = showFigures;
})();
