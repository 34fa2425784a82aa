// Sign-In with Ethereum in the browser: EIP-6963 wallet discovery (window.ethereum as fallback), EIP-4361 message,
// personal_sign, POST to the server. Every failure shows a sentence. No build step: a plain ES module.

const announced = new Map(); // uuid -> {info, provider}
window.addEventListener("eip6963:announceProvider", (event) => {
  const { info, provider } = event.detail || {};
  if (info && provider) announced.set(info.uuid, { info, provider });
});
window.dispatchEvent(new Event("eip6963:requestProvider"));

export class SignInError extends Error {}

const statusBox = () => document.querySelector("[data-siwe-status]");

export function showStatus(text, kind = "info") {
  const box = statusBox();
  if (!box) return;
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = !text;
}

function csrfToken() {
  const headers = document.body.getAttribute("hx-headers");
  try {
    return JSON.parse(headers)["X-CSRFToken"];
  } catch {
    return document.cookie.match(/csrftoken=([^;]+)/)?.[1] || "";
  }
}

function walletErrorSentence(error) {
  if (error instanceof SignInError) return error.message;
  if (error?.code === 4001) return "You cancelled the request in your wallet. Nothing was signed.";
  if (error?.code === -32002) return "Your wallet already has a request waiting: open the wallet and answer it.";
  if (error?.code === 4100) return "Your wallet has not allowed this site to see your account yet. Unlock it and try again.";
  return `Your wallet reported a problem: ${error?.message || error}`;
}

async function pickProvider() {
  const wallets = [...announced.values()];
  if (wallets.length === 1) return wallets[0].provider;
  if (wallets.length === 0) {
    if (window.ethereum) return window.ethereum;
    throw new SignInError(
      "No Ethereum wallet was found in this browser. Install a wallet extension (for example MetaMask or Rabby) and reload the page.",
    );
  }
  const dialog = document.querySelector("[data-wallet-picker]");
  const list = dialog.querySelector("[data-wallet-list]");
  list.replaceChildren();
  return new Promise((resolve, reject) => {
    for (const { info, provider } of wallets) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      if (info.icon?.startsWith("data:image/")) {
        const icon = document.createElement("img");
        icon.src = info.icon;
        icon.alt = "";
        button.append(icon);
      }
      button.append(document.createTextNode(info.name));
      button.addEventListener("click", () => {
        dialog.close("picked");
        resolve(provider);
      });
      item.append(button);
      list.append(item);
    }
    dialog.addEventListener(
      "close",
      () => {
        if (dialog.returnValue !== "picked") reject(new SignInError("No wallet was chosen."));
      },
      { once: true },
    );
    dialog.showModal();
  });
}

async function ensureChain(provider, wanted) {
  const current = parseInt(await provider.request({ method: "eth_chainId" }), 16);
  if (current === wanted) return;
  showStatus(`Your wallet is on chain ${current}; asking it to switch to chain ${wanted}…`);
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x" + wanted.toString(16) }] });
  } catch (error) {
    if (error?.code === 4001) throw new SignInError(`Please switch your wallet to chain ${wanted} to sign in; you declined the switch.`);
    throw new SignInError(
      `Your wallet is on chain ${current}, but this portal uses chain ${wanted}. Add or select chain ${wanted} in your wallet and try again.`,
    );
  }
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

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new SignInError(data.error || `The server refused the sign-in (HTTP ${response.status}).`);
  return data;
}

export async function signIn({ process = "login" } = {}) {
  const provider = await pickProvider();
  showStatus("Waiting for your wallet…");
  const accounts = await provider.request({ method: "eth_requestAccounts" });
  if (!accounts?.length) throw new SignInError("Your wallet did not share an account. Unlock it and try again.");
  const nonceResponse = await fetch(`/accounts/siwe/nonce/?address=${encodeURIComponent(accounts[0])}`, {
    credentials: "same-origin",
  });
  const challenge = await nonceResponse.json().catch(() => ({}));
  if (!nonceResponse.ok) throw new SignInError(challenge.error || "The portal could not start a sign-in. Please try again.");
  await ensureChain(provider, challenge.chain_id);
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
  const signature = await provider.request({ method: "personal_sign", params: [message, challenge.address] });
  showStatus("Checking your signature…");
  const next = new URLSearchParams(window.location.search).get("next") || window.location.pathname;
  const result = await postJSON("/accounts/siwe/login/", { message, signature, process, next });
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
    showStatus(walletErrorSentence(error), "error");
  } finally {
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }
});
