// The impact preview's charts: loans per health-factor bucket, before and after the proposed change, as grouped bars
// (uPlot from npm, a classic script). The numbers come from the fragment's own table, which stays for screen readers.
function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function row(figure, series) {
  return [...figure.querySelectorAll(`tr[data-series="${series}"] td`)].map((cell) => Number(cell.textContent));
}

function draw(figure) {
  const target = figure.querySelector("[data-plot]");
  if (!target || !window.uPlot || figure.dataset.drawn === String(target.clientWidth)) return;
  target.replaceChildren();
  const labels = [...figure.querySelectorAll("thead th.num")].map((cell) => cell.textContent);
  const before = row(figure, "before"), after = row(figure, "after");
  // Both series stand on the bucket's own tick: "before" a wide pale bar, "after" a narrow solid one in front of it.
  const xs = labels.map((_, i) => i);
  const muted = css("--muted"), grid = css("--border");
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: "11px system-ui" };
  const wide = window.uPlot.paths.bars({ size: [0.7, 44], align: 0 });
  const slim = window.uPlot.paths.bars({ size: [0.32, 18], align: 0 });
  const info = css("--info"), bad = css("--bad");
  const width = Math.max(target.clientWidth, 260);
  const narrow = width < 420;
  new window.uPlot({
    width, height: 190, legend: { show: true, live: false }, cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    axes: [
      { ...axis, grid: { show: false }, splits: () => xs,
        values: (u, ticks) => ticks.map((t) => labels[t] ?? ""), gap: 4, size: narrow ? 46 : 30, rotate: narrow ? -40 : 0 },
      { ...axis, size: 36, values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) },
    ],
    series: [
      { label: "health factor" },
      { label: "before", stroke: info, fill: info + "55", width: 1.5, paths: wide, points: { show: false } },
      { label: "after", stroke: bad, fill: bad, width: 0, paths: slim, points: { show: false } },
    ],
  }, [xs, before, after], target);
  figure.dataset.drawn = String(target.clientWidth);
  figure.classList.add("impact__chart--drawn");
}

function drawAll() {
  document.querySelectorAll("[data-impact-chart]").forEach(draw);
}

// The fragment arrives after the page (htmx); draw when it settles, and again when the width changes.
document.addEventListener("htmx:afterSettle", drawAll);
let resizeTimer;
window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(drawAll, 200); });
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
else drawAll();
