// Metric charts on a component page: uPlot (from npm, loaded as a classic script), one chart per check, 24 h / 7 d / 90 d.
const section = document.querySelector(".status-charts");
const plots = new Map();

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function formatValue(value, unit) {
  if (value == null) return "—";
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e4) return unit ? `${value} ${unit}` : String(value);
  const text = abs >= 1e6 ? (value / 1e6).toFixed(2) + " M" : abs >= 1e3 ? (value / 1e3).toFixed(1) + " k" : abs >= 10 ? value.toFixed(0) : value.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

// Times read in UTC and 24 hours, as everywhere else on the site (uPlot would show the browser's zone, "7:12pm").
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
function utcTime(seconds, { day = false, clock = true } = {}) {
  const d = new Date(seconds * 1000);
  const hm = `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
  const date = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  return [day ? date : "", clock ? hm : ""].filter(Boolean).join(" ");
}

function draw(figure, check, range) {
  const target = figure.querySelector("[data-plot]");
  const empty = figure.querySelector("[data-empty]");
  plots.get(figure)?.destroy();
  plots.delete(figure);
  const { t, v, min, max } = check.series;
  empty.hidden = t.length > 0;
  target.hidden = t.length === 0;
  if (!t.length) return;
  const accent = css("--accent"), muted = css("--muted"), grid = css("--border");
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: "11px system-ui" };
  const series = [{ label: "UTC", value: (u, ts) => (ts == null ? "" : utcTime(ts, { day: true })) }, { label: check.name, stroke: accent, width: 2, spanGaps: false, value: (u, val) => formatValue(val, check.unit) }];
  const data = [t, v];
  if (range !== "24h") {
    series.push({ label: "max", stroke: accent, width: 1, dash: [4, 4], value: (u, val) => formatValue(val, check.unit) });
    data.push(max);
  }
  const width = Math.max(target.clientWidth, 240);
  const plot = new window.uPlot({
    width, height: 200, series, legend: { show: true }, cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } }, tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    axes: [{ ...axis, values: (u, ticks) => ticks.map((ts) => utcTime(ts, range === "24h" ? {} : { day: true, clock: false })) },
      { ...axis, size: 60, values: (u, ticks) => ticks.map((value) => formatValue(value, "")) }],
  }, data, target);
  plots.set(figure, plot);
}

async function load(range) {
  for (const button of section.querySelectorAll("[data-range]")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === range));
  }
  const response = await fetch(`${section.dataset.metricsUrl}?range=${encodeURIComponent(range)}`, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const body = await response.json();
  for (const check of body.checks) {
    const figure = section.querySelector(`[data-check="${CSS.escape(check.slug)}"]`);
    if (figure) draw(figure, check, range);
  }
  section.dataset.loaded = range;
}

function start() {
  if (!section || !window.uPlot) return;
  let current = "24h";
  section.addEventListener("click", (event) => {
    const button = event.target.closest("[data-range]");
    if (button) { current = button.dataset.range; load(current); }
  });
  let resizeTimer;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => load(current), 200); });
  load(current);
  setInterval(() => { if (current === "24h" && !document.hidden) load(current); }, 30000);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
