// Signed votes in the browser: build the choice JSON for the voting type, have the wallet (wallet.js) sign the EIP-712
// `Vote` with eth_signTypedData_v4, POST it to the API, show receipt and weight. The tally itself arrives over the
// proposal's websocket, for everyone on the page. The form names its URLs (data-eip712-url, data-votes-url) and, for
// a signed-in person, the wallets that may sign (data-wallets): a wallet offering another address gets a sentence.

import { WalletError, chooseWallet, ensureChain, errorSentence, requestJSON, signTypedData, walletAccount } from "../portal/js/wallet.js";


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
    if (!picked) throw new WalletError("Choose an option first.");
    return String(Number(picked.value));
  }
  if (type === "approval") {
    const picked = [...form.querySelectorAll("input[name=choice]:checked")].map((input) => Number(input.value));
    if (!picked.length) throw new WalletError("Approve at least one option.");
    return JSON.stringify(picked);
  }
  if (type === "weighted" || type === "quadratic") {
    const split = {};
    for (const input of form.querySelectorAll("input[name=amount]")) {
      const amount = Math.floor(Number(input.value));
      if (amount > 0) split[input.dataset.choice] = amount;
    }
    if (!Object.keys(split).length) throw new WalletError("Give at least one option a share above zero.");
    return JSON.stringify(split);
  }
  return JSON.stringify([...form.querySelectorAll("[data-ranking] > li")].map((li) => Number(li.dataset.choice)));
}

async function sign(form) {
  const choice = choiceText(form); // an incomplete ballot is refused before the wallet is asked anything
  const wallet = await chooseWallet();
  const expected = (form.dataset.wallets || "").split(/\s+/).filter(Boolean);
  const account = await walletAccount(wallet, { expected });
  const shape = await requestJSON(form.dataset.eip712Url);
  await ensureChain(wallet, shape.domain.chainId, { say: (text) => show(form, text), purpose: "vote" });
  const message = {
    from: account,
    proposal: Number(form.dataset.proposal),
    choice,
    reason: form.querySelector("[name=reason]")?.value || "",
    timestamp: Math.floor(Date.now() / 1000),
  };
  show(form, "Please sign your vote in your wallet…");
  const typed = { types: shape.types, domain: shape.domain, primaryType: shape.primaryType, message };
  const signature = await signTypedData(wallet, account, typed);
  return { voter: account, choice, reason: message.reason, timestamp: message.timestamp, signature };
}

async function submit(form) {
  const button = form.querySelector("[type=submit]");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const vote = await sign(form);
    show(form, "Counting your vote…");
    const answer = await requestJSON(form.dataset.votesUrl, { body: vote, refused: "The portal refused the vote" });
    show(form, "Your vote is counted. You can change it until voting closes.", "ok");
    const receipt = document.querySelector("[data-vote-receipt]");
    if (receipt) {
      receipt.querySelector("[data-receipt-weight]").textContent = Number(answer.weight).toLocaleString(undefined, { maximumFractionDigits: 2 });
      receipt.querySelector("[data-receipt-hash]").textContent = answer.receipt;
      receipt.hidden = false;
      document.querySelector("[data-testid=my-vote]")?.remove();
    }
  } catch (error) {
    show(form, errorSentence(error), "error");
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
