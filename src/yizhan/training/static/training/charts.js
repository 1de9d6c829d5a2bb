// Draws the coverage charts from the JSON the page embeds; the table beside them holds the same
// numbers, so the page stays complete without JavaScript.
(function () {
  "use strict";
  function draw() {
    var node = document.getElementById("training-chart-data");
    if (!node || !window.echarts) return;
    var d = JSON.parse(node.textContent);
    function chart(id, option) {
      var el = document.getElementById(id);
      if (!el) return;
      var c = echarts.init(el, null, { renderer: "svg" });
      option.tooltip = { trigger: option.series[0].type === "pie" ? "item" : "axis", renderMode: "richText" };
      c.setOption(option);
      window.addEventListener("resize", function () { c.resize(); });
    }
    chart("chart-coverage", {
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: d.labels, inverse: true },
      series: [
        { name: d.names.covered, type: "bar", stack: "o", data: d.covered, itemStyle: { color: "#2e7d32" } },
        { name: d.names.gaps, type: "bar", stack: "o", data: d.gaps, itemStyle: { color: "#b3001b" } }
      ]
    });
    chart("chart-staff", {
      legend: { top: 0 },
      series: [{ type: "pie", radius: ["35%", "65%"], data: d.staff, color: ["#2e7d32", "#0b57a4", "#8a97a3"] }]
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
