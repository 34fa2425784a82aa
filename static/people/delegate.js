// Delegating loyalty votes from the account page, by either road the token offers: the wallet sends the token's
// `delegate(address)` itself (eth_sendTransaction, it pays the gas), or — with no ETH for gas — it signs the token's
// EIP-712 Delegation (eth_signTypedData_v4, free) that anyone may then send as delegateBySig (signed.js).
// Before the wallet is asked, the portal checks the address (its profile API answers a sentence for anything that is
// not one); the zero address needs a second, explicit click because it removes the votes. The form names the token,
// the chain and the API (data-token, data-chain-id, data-account-url, data-typed-url).

import { WalletError, chooseWallet, ensureChain, errorSentence, requestJSON, sendTransaction, shortAddress, signTypedData, waitForReceipt, walletAccount } from "../portal/js/wallet.js";
import { checkSigned, showSigned, splitSignature } from "./signed.js";

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

const BUTTONS = "[data-delegate-submit], [data-delegate-sign]";

function resetConfirmation(form) {
  delete form.dataset.confirmZero;
  for (const button of form.querySelectorAll(BUTTONS)) button.textContent = button.dataset.label;
}

/** The checks both roads share; null while the zero address waits for its confirming click. */
async function prepare(form, button) {
  const from = form.querySelector("[name=from]").value;
  const target = chosenTarget(form, from);
  // The portal's own check of the address (format, EIP-55 checksum): one sentence for whatever was typed.
  const profile = await requestJSON(form.dataset.accountUrl + encodeURIComponent(target), { refused: "That address was refused" });
  const delegatee = profile.address;
  if (delegatee === ZERO && form.dataset.confirmZero !== "1") {
    form.dataset.confirmZero = "1";
    button.textContent = button.dataset.confirmLabel;
    show(form, `Delegating to the zero address removes your votes: your tokens will count for nobody, not even you, until you delegate again. Click “${button.dataset.confirmLabel}” to confirm.`, "warn");
    return null;
  }
  const wallet = await chooseWallet();
  const account = await walletAccount(wallet, { expected: [from] });
  const whom = delegatee === ZERO ? "nobody (your votes are removed)" : delegatee === account ? "yourself" : profile.display_name || shortAddress(delegatee);
  return { wallet, account, delegatee, whom };
}

async function delegate(form, button) {
  const chosen = await prepare(form, button);
  if (!chosen) return;
  const { wallet, account, delegatee, whom } = chosen;
  await ensureChain(wallet, Number(form.dataset.chainId), { say: (text) => show(form, text), purpose: "delegate" });
  const data = DELEGATE_SELECTOR + delegatee.slice(2).toLowerCase().padStart(64, "0");
  show(form, "Please confirm the transaction in your wallet…");
  const hash = await sendTransaction(wallet, account, { to: form.dataset.token, data });
  show(form, "Sent. Waiting for the transaction to be mined…");
  const receipt = await waitForReceipt(wallet, hash);
  const block = parseInt(receipt.blockNumber, 16);
  resetConfirmation(form);
  show(form, `Done: from block ${block} your votes go to ${whom}. This counts for proposals whose voting power is measured after block ${block}; proposals already open keep the voting power measured when they opened.`, "ok");
  form.dispatchEvent(new CustomEvent("delegated", { bubbles: true, detail: { block, delegate: delegatee } }));
}

/** The gas-free road: the wallet signs the token's Delegation; the signed text goes to the send form (signed.js). */
async function sign(form, button) {
  const chosen = await prepare(form, button);
  if (!chosen) return;
  const { wallet, account, delegatee, whom } = chosen;
  const days = form.querySelector("[name=days]").value;
  const query = new URLSearchParams({ holder: account, delegatee, days });
  // The token's own EIP-712 domain (ERC-5267) and the holder's next nonce, read from the chain by the portal.
  const typed = await requestJSON(`${form.dataset.typedUrl}?${query}`, { refused: "The portal could not prepare the delegation" });
  if (Number(typed.domain.chainId) !== Number(form.dataset.chainId)) {
    throw new WalletError(`The loyalty token signs for chain ${typed.domain.chainId}, but this portal uses chain ${form.dataset.chainId}: ask the portal's operators to check its configuration.`);
  }
  await ensureChain(wallet, Number(typed.domain.chainId), { say: (text) => show(form, text), purpose: "sign the delegation" });
  show(form, "Please sign the delegation in your wallet. Signing is free: nothing is sent yet.");
  const signature = await signTypedData(wallet, account, typed);
  const signed = await checkSigned({
    chain_id: typed.domain.chainId, token: typed.domain.verifyingContract, holder: account, delegatee,
    nonce: typed.message.nonce, expiry: typed.message.expiry, ...splitSignature(signature),
  });
  resetConfirmation(form);
  const until = new Date(signed.expiry * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  show(form, `Signed. Nothing has changed yet: your votes go to ${whom} once someone sends this signed delegation to the chain (below), before ${until}.`, "ok");
  showSigned(signed);
}

for (const form of document.querySelectorAll("[data-delegate-form]")) {
  for (const button of form.querySelectorAll(BUTTONS)) button.dataset.label = button.textContent;
  form.addEventListener("input", (event) => event.target.name !== "days" && form.dataset.confirmZero && resetConfirmation(form));
  const run = async (button, road) => {
    if (form.dataset.confirmZero && button.textContent !== button.dataset.confirmLabel) resetConfirmation(form);
    const buttons = [...form.querySelectorAll(BUTTONS)];
    for (const b of buttons) b.disabled = true;
    try {
      await road(form, button);
    } catch (error) {
      resetConfirmation(form);
      show(form, errorSentence(error), "error");
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(form.querySelector("[data-delegate-submit]"), delegate);
  });
  form.querySelector("[data-delegate-sign]")?.addEventListener("click", (event) => run(event.currentTarget, sign));
  const typed = form.querySelector("[name=delegate]");
  typed.addEventListener("focus", () => { form.querySelector("input[name=target][value=other]").checked = true; });
}
