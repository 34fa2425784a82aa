// The browser wallet, once for every signature and transaction the portal asks for (sign-in, votes, delegation): EIP-6963 discovery with
// window.ethereum as the fallback, a picker when there are several, the account to sign with, chain switching,
// personal_sign and eth_signTypedData_v4, and a sentence for every way it can fail. A plain ES module, no build step.
// It knows no portal URL: callers read them from the page's data attributes.

const announced = new Map(); // uuid -> {info, provider}
window.addEventListener("eip6963:announceProvider", (event) => {
  const { info, provider } = event.detail || {};
  if (info && provider) announced.set(info.uuid, { info, provider });
});
window.dispatchEvent(new Event("eip6963:requestProvider"));

/** A failure whose message is already the sentence a person reads. */
export class WalletError extends Error {}

/** The sentence for anything a wallet (or the portal, through `requestJSON`) threw. */
export function errorSentence(error) {
  if (error instanceof WalletError) return error.message;
  if (/insufficient funds/i.test(error?.message || "")) {
    return "Your wallet has no ETH to pay the gas for this transaction. Add a little ETH to it and try again.";
  }
  switch (error?.code) {
    case 4001:
      return "You cancelled the request in your wallet. Nothing was signed.";
    case -32002:
      return "Your wallet already has a request waiting: open the wallet and answer it.";
    case 4100:
      return "Your wallet has not allowed this site to see your account yet. Unlock it and try again.";
    case 4200:
      return "Your wallet cannot do this kind of signature. Try another wallet.";
    case 4900:
    case 4901:
      return "Your wallet is not connected to a network. Connect it and try again.";
    default:
      return `Your wallet reported a problem: ${error?.message || error}`;
  }
}

export const shortAddress = (address) => `${address.slice(0, 6)}…${address.slice(-4)}`;

function picked(dialog, wallets) {
  const list = dialog.querySelector("[data-wallet-list]");
  list.replaceChildren();
  return new Promise((resolve, reject) => {
    for (const { info, provider } of wallets) {
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
      const item = document.createElement("li");
      item.append(button);
      list.append(item);
    }
    dialog.addEventListener(
      "close",
      () => {
        if (dialog.returnValue !== "picked") reject(new WalletError("No wallet was chosen."));
      },
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
  });
}

/** The wallet to use: the only one announced, the person's pick among several, or window.ethereum. */
export async function chooseWallet() {
  const wallets = [...announced.values()];
  if (wallets.length === 1) return wallets[0].provider;
  if (wallets.length === 0) {
    if (window.ethereum) return window.ethereum;
    throw new WalletError(
      "No Ethereum wallet was found in this browser. Install a wallet extension (for example MetaMask or Rabby) and reload the page.",
    );
  }
  const dialog = document.querySelector("[data-wallet-picker]");
  if (!dialog) throw new WalletError("Several wallets are installed; disable all but one and reload the page.");
  return picked(dialog, wallets);
}

/**
 * Ask the wallet for its accounts and return the one to sign with. `expected` lists the addresses that may sign
 * (the signed-in account's wallets); when the wallet offers none of them the person gets a sentence, never another
 * account silently.
 */
export async function walletAccount(provider, { expected = [] } = {}) {
  const offered = (await provider.request({ method: "eth_requestAccounts" })) || [];
  if (!offered.length) throw new WalletError("Your wallet did not share an account. Unlock it and try again.");
  if (!expected.length) return offered[0];
  const wanted = new Map(expected.map((address) => [address.toLowerCase(), address]));
  const match = offered.find((address) => wanted.has(address.toLowerCase()));
  if (match) return wanted.get(match.toLowerCase());
  const mine = expected.map(shortAddress).join(" or ");
  throw new WalletError(
    `Your wallet offers ${shortAddress(offered[0])}, but you are signed in with ${mine}. ` +
      "Switch to that account in your wallet, or sign in with this one, and try again.",
  );
}

/** Make sure the wallet is on chain `wanted`, asking it to switch; `say(text)` tells the person what happens. */
export async function ensureChain(provider, wanted, { say = () => {}, purpose = "sign" } = {}) {
  const current = parseInt(await provider.request({ method: "eth_chainId" }), 16);
  if (current === wanted) return;
  say(`Your wallet is on chain ${current}; asking it to switch to chain ${wanted}…`);
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x" + wanted.toString(16) }] });
  } catch (error) {
    if (error?.code === 4001) throw new WalletError(`Please switch your wallet to chain ${wanted} to ${purpose}; you declined the switch.`);
    throw new WalletError(
      `Your wallet is on chain ${current}, but this portal uses chain ${wanted}. Add or select chain ${wanted} in your wallet and try again.`,
    );
  }
}

/** EIP-191 personal_sign of `message` (text) by `address`: the 0x signature. */
export function personalSign(provider, address, message) {
  return provider.request({ method: "personal_sign", params: [message, address] });
}

/** EIP-712 eth_signTypedData_v4 of `typed` ({types, domain, primaryType, message}) by `address`. */
export function signTypedData(provider, address, typed) {
  return provider.request({ method: "eth_signTypedData_v4", params: [address, JSON.stringify(typed)] });
}

/** eth_sendTransaction of `{to, data}` from `address`: the transaction hash. The wallet fills in gas and fees. */
export function sendTransaction(provider, address, { to, data }) {
  return provider.request({ method: "eth_sendTransaction", params: [{ from: address, to, data }] });
}

/** Until the transaction `hash` is mined: its receipt; a WalletError when it reverted or is not mined in time. */
export async function waitForReceipt(provider, hash, { timeoutSeconds = 180 } = {}) {
  const until = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < until) {
    const receipt = await provider.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (receipt) {
      if (parseInt(receipt.status, 16) !== 1) throw new WalletError("The transaction was mined but failed; nothing changed.");
      return receipt;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new WalletError("The transaction is not mined yet. Check your wallet's activity; this page updates once it is.");
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  } catch {
    return document.cookie.match(/csrftoken=([^;]+)/)?.[1] || "";
  }
}

/** GET (or POST `body` as JSON, with the CSRF header) and return the JSON answer; a refusal throws its sentence. */
export async function requestJSON(url, { body, refused = "The portal refused the request" } = {}) {
  const options = { credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.headers["X-CSRFToken"] = csrfToken();
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new WalletError(answer.error || `${refused} (HTTP ${response.status}).`);
  return answer;
}
