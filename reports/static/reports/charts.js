// Draws every report chart from the JSON beside its canvas (the table below holds the numbers).
var PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777"];
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Chart) return;
  document.querySelectorAll(".report-chart").forEach(function (box) {
    var data = JSON.parse(box.querySelector("script[type='application/json']").textContent);
    data.datasets.forEach(function (set, i) {
      var colour = PALETTE[i % PALETTE.length];
      set.backgroundColor = data.type === "line" ? colour + "33" : colour;
      set.borderColor = colour;
      set.borderWidth = data.type === "line" ? 2 : 1;
    });
    var scales = {};
    if (data.stacked) scales = { x: { stacked: true }, y: { stacked: true } };
    if (data.percent) scales = { y: { min: 0, max: 100 } };
    box.chart = new Chart(box.querySelector("canvas"), {
      type: data.type,
      data: { labels: data.labels, datasets: data.datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: scales },
    });
  });
});
