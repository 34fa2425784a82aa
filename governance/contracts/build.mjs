// Compile every .sol file under governance/contracts/ with the pinned npm `solc` (optimizer on).
// Writes build/<Contract>.json = {abi, bytecode, deployedBytecode}. Build outputs are not committed.
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const out = join(here, "build");

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "build") return [];
    return statSync(path).isDirectory() ? walk(path) : name.endsWith(".sol") ? [path] : [];
  });
}

const sources = Object.fromEntries(
  walk(here).map((path) => [relative(here, path), { content: readFileSync(path, "utf8") }]),
);
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
function findImports(path) {
  for (const base of [join(root, "node_modules"), here]) {
    const full = join(base, path);
    if (existsSync(full)) return { contents: readFileSync(full, "utf8") };
  }
  return { error: `File not found: ${path}` };
}

const result = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (result.errors || []).filter((e) => e.severity === "error");
for (const e of result.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

mkdirSync(out, { recursive: true });
let count = 0;
for (const [file, contracts] of Object.entries(result.contracts)) {
  if (!(file in sources)) continue; // only our own contracts, not OpenZeppelin's
  for (const [name, c] of Object.entries(contracts)) {
    writeFileSync(
      join(out, `${name}.json`),
      JSON.stringify({ abi: c.abi, bytecode: "0x" + c.evm.bytecode.object, deployedBytecode: "0x" + c.evm.deployedBytecode.object }),
    );
    count += 1;
  }
}
console.log(`compiled ${count} contracts with solc ${solc.version()}`);
