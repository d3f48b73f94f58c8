/**
 * `npm run deploy:params [-- --out FILE] [--admin 0x…]`: writes the Ignition
 * parameters of the `Platform` module (ignition/parameters.json by default)
 * with the server's account for each role, derived from the same settings the
 * server reads (server/config.ts): with ROLE_SIGNER=web3signer the
 * ROLE_ACCOUNT_* addresses, with ROLE_SIGNER=mnemonic the accounts derived from
 * WALLET_MNEMONIC. Run it with the server's production environment. Other
 * parameters already in the file (maxAddressesPerIdentity, the lock minimums,
 * AdminHandover) are kept; `--admin` sets `Platform.admin`, the account
 * that takes over AccessManager role 0 (ignition/modules/AdminHandover.ts).
 * Prints what it wrote.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { getAddress } from "ethers";

import { loadConfigOrExit } from "../server/config.js";
import { PLATFORM_ROLES } from "../server/modules/wallets/custody.js";
import { roleSignersFromConfig } from "../server/modules/wallets/remote-signer.js";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: path.join("ignition", "parameters.json") },
    admin: { type: "string" },
  },
});
const file = values.out!;

const config = loadConfigOrExit();
let roles;
try {
  roles = roleSignersFromConfig(config);
} catch (error) {
  console.error(`✖ ${(error as Error).message}`);
  process.exit(1);
}

type Parameters = Record<string, Record<string, unknown>>;
const parameters: Parameters = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Parameters) : {};
const platform: Record<string, unknown> = { ...parameters.Platform };
for (const role of PLATFORM_ROLES) platform[role] = roles.address(role);
parameters.Platform = platform;

if (values.admin !== undefined) {
  let admin: string;
  try {
    admin = getAddress(values.admin);
  } catch {
    console.error(`✖ --admin ${values.admin} is not an account address`);
    process.exit(1);
  }
  if (PLATFORM_ROLES.some((role) => roles.address(role) === admin)) {
    console.error(`✖ --admin ${admin} is one of the server's role accounts; role 0 belongs to another account`);
    process.exit(1);
  }
  parameters.Platform = { ...parameters.Platform, admin };
}

mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(parameters, null, 2)}\n`);

const source =
  roles.kind === "web3signer"
    ? `ROLE_SIGNER=web3signer (ROLE_ACCOUNT_*, keys at ${config.env.WEB3SIGNER_URL})`
    : config.secretsSource === "development-file"
      ? `ROLE_SIGNER=mnemonic, WALLET_MNEMONIC from ${path.join(config.env.DATA_DIR, "dev-secrets.json")} (development only!)`
      : "ROLE_SIGNER=mnemonic, WALLET_MNEMONIC from the environment";
console.log(`Wrote ${file} (role accounts from ${source}):`);
console.log(JSON.stringify(parameters, null, 2));
if (config.secretsSource === "development-file" && roles.kind === "mnemonic") {
  console.warn(
    "⚠ These are the development seed's accounts: a production deployment needs the server's production settings.",
  );
}
