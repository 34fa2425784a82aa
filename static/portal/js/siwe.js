// Sign-In with Ethereum in the browser: the wallet (wallet.js) signs an EIP-4361 message with personal_sign, and the
// portal checks it. The nonce and login URLs come from <body data-siwe-nonce-url data-siwe-login-url>.

import { chooseWallet, ensureChain, errorSentence, personalSign, requestJSON, walletAccount } from "./wallet.js";

export function showStatus(text, kind = "info") {
  const box = document.querySelector("[data-siwe-status]");
  if (!box) return;
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = !text;
}

export function buildMessage({ domain, address, statement, uri, chainId, nonce, issuedAt, expirationTime }) {
  const lines = [
    `${domain} wants you to sign in with your Ethereum account:`,
    address,
    "",
    statement,
    "",
    `URI: ${uri}`,
    "Version: 1",
    `Chain ID: ${chainId}`,
    `Nonce: ${nonce}`,
    `Issued At: ${issuedAt}`,
  ];
  if (expirationTime) lines.push(`Expiration Time: ${expirationTime}`);
  return lines.join("\n");
}

export async function signIn({ process = "login" } = {}) {
  const { siweNonceUrl, siweLoginUrl } = document.body.dataset;
  const provider = await chooseWallet();
  showStatus("Waiting for your wallet…");
  const account = await walletAccount(provider);
  const challenge = await requestJSON(`${siweNonceUrl}?address=${encodeURIComponent(account)}`, {
    refused: "The portal could not start a sign-in",
  });
  await ensureChain(provider, challenge.chain_id, { say: showStatus, purpose: "sign in" });
  const now = new Date();
  const message = buildMessage({
    domain: window.location.host,
    address: challenge.address,
    statement: "Sign in to the DAO portal. This request will not trigger a blockchain transaction or cost any gas.",
    uri: window.location.origin,
    chainId: challenge.chain_id,
    nonce: challenge.nonce,
    issuedAt: now.toISOString(),
    expirationTime: new Date(now.getTime() + 10 * 60 * 1000).toISOString(),
  });
  showStatus("Please sign the message in your wallet…");
  const signature = await personalSign(provider, challenge.address, message);
  showStatus("Checking your signature…");
  const next = new URLSearchParams(window.location.search).get("next") || window.location.pathname;
  const result = await requestJSON(siweLoginUrl, {
    body: { message, signature, process, next },
    refused: "The server refused the sign-in",
  });
  showStatus("Signed in.", "info");
  window.location.assign(result.redirect || "/");
  return result;
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-siwe-signin]");
  if (!button) return;
  event.preventDefault();
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  try {
    await signIn({ process: button.dataset.siweProcess || "login" });
  } catch (error) {
    showStatus(errorSentence(error), "error");
  } finally {
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }
});
