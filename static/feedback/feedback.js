// Let a vote form show the server's sentence when a vote is refused (htmx does not swap 4xx bodies by default).
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (event.detail.xhr.status >= 400 && event.detail.xhr.status < 500 && target && target.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
