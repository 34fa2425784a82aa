// A signed delegation (the token's EIP-712 Delegation, for delegateBySig) is sent by whoever pays the gas: the holder
// with another wallet, or anyone they hand the text to. The portal checks it first (GET data-check-url: the chain,
// the token, the expiry, who signed it, the nonce), so an expired, used or foreign signature is a sentence before any
// wallet is asked; then the connected wallet, whichever account it is, sends delegateBySig(delegatee, nonce, expiry,
// v, r, s). The portal itself never sends it: it holds no key.

import { WalletError, chooseWallet, ensureChain, errorSentence, requestJSON, sendTransaction, shortAddress, waitForReceipt, walletAccount } from "../portal/js/wallet.js";

const FIELDS = ["chain_id", "token", "holder", "delegatee", "nonce", "expiry", "v", "r", "s"];
const CHECK_URL = "/api/v1/delegations/check";
const ACCOUNT_URL = "/api/v1/accounts/";

/** A 65-byte 0x signature as delegateBySig's v, r, s. */
export function splitSignature(signature) {
  const hex = signature.replace(/^0x/, "");
  if (!/^[0-9a-fA-F]{130}$/.test(hex)) throw new WalletError("Your wallet returned something that is not a signature. Nothing was signed.");
  return { r: "0x" + hex.slice(0, 64), s: "0x" + hex.slice(64, 128), v: parseInt(hex.slice(128, 130), 16) };
}

/** The portal's check of a signed delegation against the chain now: its payload with calldata, or a sentence. */
export function checkSigned(fields) {
  const query = new URLSearchParams(FIELDS.map((name) => [name, String(fields[name] ?? "")]));
  return requestJSON(`${CHECK_URL}?${query}`, { refused: "The portal refused this signed delegation" });
}

function copyable(signed) {
  return JSON.stringify(Object.fromEntries([...FIELDS, "calldata"].map((name) => [name, signed[name]])), null, 2);
}

function parsed(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  if (!value || typeof value !== "object" || FIELDS.some((name) => !(name in value))) {
    throw new WalletError("This is not a signed delegation. Paste the whole text you were given, from the first { to the last }.");
  }
  return value;
}

function say(form, text, kind = "info") {
  const box = form.querySelector("[data-signed-status]");
  box.textContent = text;
  box.className = `delegation-status delegation-status--${kind}`;
  box.hidden = !text;
}

async function named(address) {
  try {
    const profile = await requestJSON(ACCOUNT_URL + encodeURIComponent(address));
    return profile.display_name ? `${profile.display_name} (${shortAddress(address)})` : shortAddress(address);
  } catch {
    return shortAddress(address);
  }
}

async function send(form) {
  const text = form.querySelector("[name=payload]").value.trim();
  if (!text) throw new WalletError("Paste the signed delegation first.");
  const fields = parsed(text);
  say(form, "Checking the signed delegation…");
  const checked = await checkSigned(fields);
  const [holder, delegatee] = await Promise.all([named(checked.holder), named(checked.delegatee)]);
  const wallet = await chooseWallet();
  const account = await walletAccount(wallet);
  await ensureChain(wallet, Number(checked.chain_id), { say: (line) => say(form, line), purpose: "send the delegation" });
  say(form, `Checked: it moves the votes of ${holder} to ${delegatee}. Please confirm the transaction in your wallet; the wallet you send it with pays the gas, the votes stay ${holder}'s.`);
  let hash;
  try {
    hash = await sendTransaction(wallet, account, { to: checked.token, data: checked.calldata });
  } catch (error) {
    // Someone may have sent it meanwhile, or it expired: the portal's sentence says so better than the node's.
    await checkSigned(fields);
    throw error;
  }
  say(form, "Sent. Waiting for the transaction to be mined…");
  const receipt = await waitForReceipt(wallet, hash);
  const block = parseInt(receipt.blockNumber, 16);
  say(form, `Done: from block ${block} the votes of ${holder} go to ${delegatee}. This counts for proposals whose voting power is measured after block ${block}.`, "ok");
  form.dispatchEvent(new CustomEvent("delegated", { bubbles: true, detail: { block, delegate: checked.delegatee, holder: checked.holder } }));
}

/** After the holder signed on this page: the send form shows the signed text, ready to send or copy. */
export function showSigned(signed) {
  const form = document.querySelector("[data-signed-send]");
  const panel = form.closest("[data-signed-panel]") || form;
  form.querySelector("[name=payload]").value = copyable(signed);
  say(form, "");
  panel.hidden = false;
  panel.scrollIntoView({ block: "nearest" });
}

async function copy(form) {
  const box = form.querySelector("[name=payload]");
  if (!box.value.trim()) throw new WalletError("There is nothing to copy yet.");
  try {
    await navigator.clipboard.writeText(box.value);
  } catch {
    box.select();
    if (!document.execCommand("copy")) throw new WalletError("The browser did not allow copying: select the text and copy it yourself.");
  }
  say(form, "Copied. Send it to whoever will send it to the chain; it holds no secret, only your signature of this delegation.", "ok");
}

for (const form of document.querySelectorAll("[data-signed-send]")) {
  const button = form.querySelector("[data-signed-send-submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      await send(form);
    } catch (error) {
      say(form, errorSentence(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  form.querySelector("[data-signed-copy]")?.addEventListener("click", () => copy(form).catch((error) => say(form, errorSentence(error), "error")));
}
