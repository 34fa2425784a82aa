// Live thread: keeps websocket fragments idempotent (a comment delivered twice — live and by the catch-up after a
// reconnect — is swapped in place, never duplicated) and wires the Reply buttons to the composer.

function dedupeAppends(event) {
  const { target, fragment } = event.detail;
  if (!target || !target.hasAttribute("data-comment-list") || !fragment) return;
  const from = target.dataset.shownFrom && Date.parse(target.dataset.shownFrom);
  const until = target.dataset.shownUntil && Date.parse(target.dataset.shownUntil);
  for (const item of Array.from(fragment.children)) {
    const existing = item.id && document.getElementById(item.id);
    if (!existing) {
      // A reply this page does not show (before its "earlier replies", or after an opened page's last one).
      const time = item.querySelector("time[datetime]");
      const created = time && Date.parse(time.dateTime);
      if (created && ((from && created < from) || (until && created > until))) item.remove();
      continue;
    }
    const article = item.querySelector(":scope > article");
    const current = article && document.getElementById(article.id);
    if (article && current) {
      current.replaceWith(article);
      window.htmx.process(article);
    }
    item.remove();
  }
}

function startReply(event) {
  const link = event.target.closest("[data-reply], [data-quote]");
  if (!link) return;
  const form = document.querySelector("[data-testid=composer]");
  if (!form) return;
  event.preventDefault();
  const id = link.dataset.reply || link.dataset.quote;
  form.querySelector("#composer-parent").value = id;
  const author = document.querySelector(`#comment-${id} .comment__meta .wallet`);
  const box = form.querySelector("#composer-reply");
  box.replaceChildren();
  const line = document.createElement("p");
  line.className = "composer__reply";
  line.append("Replying to ", author ? author.cloneNode(true) : "a comment", " ");
  const cancel = document.createElement("a");
  cancel.href = "#composer";
  cancel.textContent = "cancel";
  cancel.dataset.cancelReply = "";
  line.append(cancel);
  box.append(line);
  const body = form.querySelector("#composer-body");
  const quoted = "quote" in link.dataset && document.querySelector(`#comment-${id} .comment__body`);
  if (quoted) {
    // Quote-reply: the comment's text as a markdown blockquote above what is already written.
    const lines = quoted.innerText.trim().slice(0, 1000).split("\n").map((text) => (text.trim() ? `> ${text}` : ">"));
    body.value = `${lines.join("\n")}\n\n${body.value}`;
    body.setSelectionRange(body.value.length, body.value.length);
  }
  body.focus();
}

function cancelReply(event) {
  if (!event.target.closest("[data-cancel-reply]")) return;
  event.preventDefault();
  const form = document.querySelector("[data-testid=composer]");
  form.querySelector("#composer-parent").value = "";
  form.querySelector("#composer-reply").replaceChildren();
}

document.body.addEventListener("htmx:oobBeforeSwap", dedupeAppends);
document.addEventListener("click", (event) => {
  startReply(event);
  cancelReply(event);
});
