// Draws every report chart from the JSON beside its canvas (the table below holds the numbers).
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Chart) return;
  document.querySelectorAll(".report-chart").forEach(function (box) {
    var data = JSON.parse(box.querySelector("script[type='application/json']").textContent);
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
