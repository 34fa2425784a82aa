// A test EIP-1193 wallet injected into the page: announces itself through EIP-6963 and sets window.ethereum.
// Signing happens in Python (eth_account) through the exposed binding window.__testWallet(method, paramsJSON).
(() => {
  const config = window.__testWalletConfig;
  if (!config) return;
  let chainId = config.chainId;
  const listeners = {};
  const emit = (name, value) => (listeners[name] || []).forEach((fn) => fn(value));
  const rpcError = (code, message) => Object.assign(new Error(message), { code });
  const provider = {
    isTestWallet: true,
    on(name, fn) { (listeners[name] ||= []).push(fn); },
    removeListener(name, fn) { listeners[name] = (listeners[name] || []).filter((f) => f !== fn); },
    async request({ method, params = [] }) {
      if (config.reject && ["eth_requestAccounts", "personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"].includes(method)) {
        throw rpcError(4001, "User rejected the request.");
      }
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return [config.address.toLowerCase()];
        case "eth_chainId":
          return "0x" + chainId.toString(16);
        case "wallet_switchEthereumChain": {
          if (!config.canSwitch) throw rpcError(4902, "Unrecognized chain ID.");
          chainId = parseInt(params[0].chainId, 16);
          emit("chainChanged", params[0].chainId);
          return null;
        }
        case "personal_sign":
        case "eth_signTypedData_v4":
        case "eth_sendTransaction":
        case "eth_getTransactionReceipt":
          return await window.__testWallet(method, JSON.stringify(params));
        default:
          throw rpcError(4200, `The test wallet does not support ${method}.`);
      }
    },
  };
  const info = { uuid: "00000000-0000-4000-8000-000000000001", name: "Test Wallet", icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'%3E%3Crect width='8' height='8' fill='%235b5bd6'/%3E%3C/svg%3E", rdns: "org.example.testwallet" };
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
  if (config.legacy) window.ethereum = provider;
})();
