// viem as the EIP-712 oracle: reads [{typed, signature}] on stdin, prints [{hash, signer}] — viem's hashTypedData
// and recoverTypedDataAddress of each, so the portal's digest and signer check are compared with another implementation.
import { hashTypedData, recoverTypedDataAddress } from "viem";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));
const answers = [];
for (const { typed, signature } of input) {
  const { EIP712Domain, ...types } = typed.types; // viem derives the domain type from the domain itself
  const args = { domain: typed.domain, types, primaryType: typed.primaryType, message: typed.message };
  answers.push({ hash: hashTypedData(args), signer: signature ? await recoverTypedDataAddress({ ...args, signature }) : null });
}
process.stdout.write(JSON.stringify(answers));
