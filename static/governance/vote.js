// Signed votes in the browser: build the choice JSON for the voting type, sign the EIP-712 `Vote` with
// eth_signTypedData_v4 (EIP-6963 wallet, window.ethereum as fallback), POST it to the API, show receipt and weight.
// The tally itself arrives over the proposal's websocket, for everyone on the page.

const announced = new Map();
window.addEventListener("eip6963:announceProvider", (event) => {
  const { info, provider } = event.detail || {};
  if (info && provider) announced.set(info.uuid, { info, provider });
});
window.dispatchEvent(new Event("eip6963:requestProvider"));

class VoteError extends Error {}

function provider() {
  const wallets = [...announced.values()];
  if (wallets.length) return wallets[0].provider;
  if (window.ethereum) return window.ethereum;
  throw new VoteError("No Ethereum wallet was found in this browser. Install a wallet extension and reload the page.");
}

function walletSentence(error) {
  if (error instanceof VoteError) return error.message;
  if (error?.code === 4001) return "You cancelled the signature in your wallet. Nothing was sent.";
  if (error?.code === -32002) return "Your wallet already has a request waiting: open the wallet and answer it.";
  return `Your wallet reported a problem: ${error?.message || error}`;
}

function show(form, text, kind = "info") {
  const box = form.querySelector("[data-vote-status]");
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = !text;
}

export function choiceText(form) {
  const type = form.dataset.votingType;
  if (type === "basic" || type === "single-choice") {
    const picked = form.querySelector("input[name=choice]:checked");
    if (!picked) throw new VoteError("Choose an option first.");
    return String(Number(picked.value));
  }
  if (type === "approval") {
    const picked = [...form.querySelectorAll("input[name=choice]:checked")].map((input) => Number(input.value));
    if (!picked.length) throw new VoteError("Approve at least one option.");
    return JSON.stringify(picked);
  }
  if (type === "weighted" || type === "quadratic") {
    const split = {};
    for (const input of form.querySelectorAll("input[name=amount]")) {
      const amount = Math.floor(Number(input.value));
      if (amount > 0) split[input.dataset.choice] = amount;
    }
    if (!Object.keys(split).length) throw new VoteError("Give at least one option a share above zero.");
    return JSON.stringify(split);
  }
  return JSON.stringify([...form.querySelectorAll("[data-ranking] > li")].map((li) => Number(li.dataset.choice)));
}

async function sign(form) {
  const wallet = provider();
  const [account] = await wallet.request({ method: "eth_requestAccounts" });
  if (!account) throw new VoteError("Your wallet did not share an account. Unlock it and try again.");
  const shape = await (await fetch("/api/v1/eip712", { credentials: "same-origin" })).json();
  if (shape.error) throw new VoteError(shape.error);
  const current = parseInt(await wallet.request({ method: "eth_chainId" }), 16);
  if (current !== shape.domain.chainId) {
    try {
      await wallet.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x" + shape.domain.chainId.toString(16) }] });
    } catch {
      throw new VoteError(`Your wallet is on chain ${current}; votes here are signed for chain ${shape.domain.chainId}. Switch networks and try again.`);
    }
  }
  const message = {
    from: account,
    proposal: Number(form.dataset.proposal),
    choice: choiceText(form),
    reason: form.querySelector("[name=reason]")?.value || "",
    timestamp: Math.floor(Date.now() / 1000),
  };
  show(form, "Please sign your vote in your wallet…");
  const typed = { types: shape.types, domain: shape.domain, primaryType: shape.primaryType, message };
  const signature = await wallet.request({ method: "eth_signTypedData_v4", params: [account, JSON.stringify(typed)] });
  return { voter: account, choice: message.choice, reason: message.reason, timestamp: message.timestamp, signature };
}

async function submit(form) {
  const button = form.querySelector("[type=submit]");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const vote = await sign(form);
    show(form, "Counting your vote…");
    const response = await fetch(`/api/v1/proposals/${form.dataset.proposal}/votes`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(vote),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new VoteError(answer.error || `The portal refused the vote (HTTP ${response.status}).`);
    show(form, "Your vote is counted. You can change it until voting closes.", "ok");
    const receipt = document.querySelector("[data-vote-receipt]");
    if (receipt) {
      receipt.querySelector("[data-receipt-weight]").textContent = Number(answer.weight).toLocaleString(undefined, { maximumFractionDigits: 2 });
      receipt.querySelector("[data-receipt-hash]").textContent = answer.receipt;
      receipt.hidden = false;
      document.querySelector("[data-testid=my-vote]")?.remove();
    }
  } catch (error) {
    show(form, walletSentence(error), "error");
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target.closest("[data-vote-form]");
  if (!form) return;
  event.preventDefault();
  submit(form);
});

document.addEventListener("click", (event) => {
  const move = event.target.closest("[data-ranking] [data-move]");
  if (!move) return;
  const item = move.closest("li");
  if (move.dataset.move === "up" && item.previousElementSibling) item.parentNode.insertBefore(item, item.previousElementSibling);
  if (move.dataset.move === "down" && item.nextElementSibling) item.parentNode.insertBefore(item.nextElementSibling, item);
  move.focus();
});
