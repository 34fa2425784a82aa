// Live updates over htmx's websocket extension, kept honest while a socket is down (the server restarting, Redis
// unreachable): the page says "Live updates are paused" until every socket it opened is open again, and sockets
// retry at most 4 s apart, so a page is live again within 5 s of the server coming back. What was missed arrives
// through each page's own catch-up request on `htmx:wsOpen` (thread changes, the proposal's tally).

const RECONNECTING = [1006, 1011, 1012, 1013]; // the close codes after which htmx's ws extension reconnects
const SHOW_AFTER_MS = 800; // a socket that comes back at once (a quick server restart) does not flash the notice
const down = new Set();
let showTimer = null;

htmx.config.wsReconnectDelay = (retryCount) => Math.min(500 * 2 ** retryCount, 4000) * (0.6 + Math.random() * 0.4);

function notice() {
  return document.getElementById("live-paused");
}

function refresh() {
  const element = notice();
  if (!element) return;
  if (down.size === 0) {
    clearTimeout(showTimer);
    showTimer = null;
    element.hidden = true;
  } else if (element.hidden && showTimer === null) {
    showTimer = setTimeout(() => {
      showTimer = null;
      if (down.size > 0) element.hidden = false;
    }, SHOW_AFTER_MS);
  }
}

document.addEventListener("htmx:wsClose", (event) => {
  const code = event.detail && event.detail.event ? event.detail.event.code : 1006;
  if (RECONNECTING.includes(code)) down.add(event.target);
  refresh();
});
document.addEventListener("htmx:wsOpen", (event) => {
  down.delete(event.target);
  refresh();
});
