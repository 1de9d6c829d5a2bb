// Draws the statistics charts from the JSON the page embeds; the tables beside them hold the
// same numbers, so the page stays complete without JavaScript.
(function () {
  "use strict";
  function draw() {
    var node = document.getElementById("visits-chart-data");
    if (!node || !window.echarts) return;
    var d = JSON.parse(node.textContent);
    var red = "#b3001b", grey = "#8a97a3", blue = "#0b57a4";
    // Short value labels (2.5万, 25k) so that no axis label is cut off at the chart's edge.
    function compact(v) {
      var div = d.compact.div;
      if (Math.abs(v) < div) return String(v);
      return String(Math.round((v / div) * 10) / 10) + d.compact.suffix;
    }
    function valueAxis(axis) {
      axis.axisLabel = { formatter: compact, hideOverlap: true };
      return axis;
    }
    function chart(id, option) {
      var el = document.getElementById(id);
      if (!el) return;
      var c = echarts.init(el, null, { renderer: "svg" });
      // richText: the tooltip is drawn inside the chart; the HTML one is made of style
      // attributes, which the Content-Security-Policy refuses.
      option.tooltip = option.tooltip || { trigger: "axis", renderMode: "richText" };
      option.grid = option.grid || { left: 8, right: 24, top: 32, bottom: 8, containLabel: true };
      [option.xAxis, option.yAxis].forEach(function (axis) {
        if (axis && axis.type === "value") valueAxis(axis);
      });
      c.setOption(option);
      window.addEventListener("resize", function () { c.resize(); });
    }
    var names = d.names;
    chart("chart-series", {
      legend: { top: 0 },
      xAxis: { type: "category", data: d.series.labels },
      yAxis: { type: "value" },
      series: [
        { name: names.checkins, type: "bar", stack: "v", data: d.series.checkins, itemStyle: { color: red } },
        { name: names.tallied, type: "bar", stack: "v", data: d.series.tallied, itemStyle: { color: grey } }
      ]
    });
    chart("chart-groups", {
      legend: { top: 0 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: d.groups.labels, inverse: true },
      series: [
        { name: names.checkins, type: "bar", data: d.groups.checkins, itemStyle: { color: red } },
        { name: names.tallied, type: "bar", data: d.groups.tallied, itemStyle: { color: grey } }
      ]
    });
    chart("chart-services", {
      xAxis: { type: "value" },
      yAxis: { type: "category", data: d.services.labels, inverse: true },
      series: [{ name: names.checkins, type: "bar", data: d.services.checkins, itemStyle: { color: blue } }]
    });
    chart("chart-yoy", {
      legend: { top: 0 },
      xAxis: { type: "category", data: d.yoy.labels },
      yAxis: { type: "value" },
      series: [
        { name: d.yoy.last_label, type: "line", data: d.yoy.last, itemStyle: { color: grey } },
        { name: d.yoy.this_label, type: "line", data: d.yoy.this, itemStyle: { color: red } }
      ]
    });
    chart("chart-hours", {
      xAxis: { type: "category", data: d.hours.labels },
      yAxis: { type: "value" },
      series: [{ name: names.checkins, type: "bar", data: d.hours.checkins, itemStyle: { color: red } }]
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
