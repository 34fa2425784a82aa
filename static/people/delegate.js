// Delegating loyalty votes from the account page: the portal checks the address (its profile API answers a
// sentence for anything that is not one), the zero address needs a second, explicit click because it removes the
// votes, then the wallet (wallet.js) sends the token's `delegate(address)` with eth_sendTransaction and the page
// waits for the receipt. The form names the token, the chain and the API (data-token, data-chain-id, data-account-url).

import { WalletError, chooseWallet, ensureChain, errorSentence, requestJSON, sendTransaction, shortAddress, waitForReceipt, walletAccount } from "../portal/js/wallet.js";

const ZERO = "0x0000000000000000000000000000000000000000";
const DELEGATE_SELECTOR = "0x5c19a95c"; // delegate(address)

function show(form, text, kind = "info") {
  const box = form.querySelector("[data-delegate-status]");
  box.textContent = text;
  box.className = `delegation-status delegation-status--${kind}`;
  box.hidden = !text;
}

function chosenTarget(form, from) {
  const mode = form.querySelector("input[name=target]:checked")?.value || "self";
  if (mode === "self") return from;
  const typed = form.querySelector("[name=delegate]").value.trim();
  if (!typed) throw new WalletError("Write the address you want to delegate to, or choose “Myself”.");
  if (!/^0x[0-9a-fA-F]{40}$/.test(typed)) {
    const shown = typed.length > 60 ? typed.slice(0, 59) + "…" : typed;
    throw new WalletError(`“${shown}” is not a wallet address. An address is 0x followed by 40 hexadecimal characters (0–9, a–f).`);
  }
  return typed;
}

function resetConfirmation(form) {
  delete form.dataset.confirmZero;
  form.querySelector("[data-delegate-submit]").textContent = form.dataset.submitLabel;
}

async function delegate(form) {
  const from = form.querySelector("[name=from]").value;
  const target = chosenTarget(form, from);
  // The portal's own check of the address (format, EIP-55 checksum): one sentence for whatever was typed.
  const profile = await requestJSON(form.dataset.accountUrl + encodeURIComponent(target), { refused: "That address was refused" });
  const delegatee = profile.address;
  if (delegatee === ZERO && form.dataset.confirmZero !== "1") {
    form.dataset.confirmZero = "1";
    form.querySelector("[data-delegate-submit]").textContent = "Yes, remove my votes";
    show(form, "Delegating to the zero address removes your votes: your tokens will count for nobody, not even you, until you delegate again. Click “Yes, remove my votes” to confirm.", "warn");
    return;
  }
  const wallet = await chooseWallet();
  const account = await walletAccount(wallet, { expected: [from] });
  await ensureChain(wallet, Number(form.dataset.chainId), { say: (text) => show(form, text), purpose: "delegate" });
  const data = DELEGATE_SELECTOR + delegatee.slice(2).toLowerCase().padStart(64, "0");
  show(form, "Please confirm the transaction in your wallet…");
  const hash = await sendTransaction(wallet, account, { to: form.dataset.token, data });
  show(form, "Sent. Waiting for the transaction to be mined…");
  const receipt = await waitForReceipt(wallet, hash);
  const block = parseInt(receipt.blockNumber, 16);
  const whom = delegatee === ZERO ? "nobody (your votes are removed)" : delegatee === account ? "yourself" : profile.display_name || shortAddress(delegatee);
  resetConfirmation(form);
  show(form, `Done: from block ${block} your votes go to ${whom}. This counts for proposals whose snapshot block comes after ${block}; proposals already open keep the votes of their snapshot.`, "ok");
  form.dispatchEvent(new CustomEvent("delegated", { bubbles: true, detail: { block, delegate: delegatee } }));
}

for (const form of document.querySelectorAll("[data-delegate-form]")) {
  form.dataset.submitLabel = form.querySelector("[data-delegate-submit]").textContent;
  form.addEventListener("input", () => form.dataset.confirmZero && resetConfirmation(form));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("[data-delegate-submit]");
    button.disabled = true;
    try {
      await delegate(form);
    } catch (error) {
      resetConfirmation(form);
      show(form, errorSentence(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  const typed = form.querySelector("[name=delegate]");
  typed.addEventListener("focus", () => { form.querySelector("input[name=target][value=other]").checked = true; });
}
