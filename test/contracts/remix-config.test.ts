import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { describe, expect, it } from "vitest";

import hardhatConfig from "../../hardhat.config.js";
import {
  Roles,
  collectionFunctionRoles,
  factoryFunctionRoles,
  registryFunctionRoles,
  selector,
} from "../../ignition/roles.js";

const require = createRequire(import.meta.url);

/** contracts/compiler_config.json, Remix's compiler settings for the shared folder (docs/remix.md). */
describe("Remix compiler configuration", () => {
  const remix = JSON.parse(readFileSync("contracts/compiler_config.json", "utf8")) as {
    language: string;
    settings: { evmVersion: string; optimizer: unknown; remappings: string[] };
  };
  const solidity = hardhatConfig.solidity as { version: string; settings: { evmVersion: string; optimizer: unknown } };

  it("compiles as Hardhat does: same EVM target and optimizer, solc 0.8.37", () => {
    expect(remix.language).toBe("Solidity");
    expect(remix.settings.evmVersion).toBe("cancun");
    expect(remix.settings.evmVersion).toBe(process.env.SOLIDITY_EVM_VERSION ?? solidity.settings.evmVersion);
    expect(remix.settings.optimizer).toEqual(solidity.settings.optimizer);
    expect(solidity.version).toBe("0.8.37");
  });

  it("maps @openzeppelin/ to the installed OpenZeppelin 5.7, which npm run remixd shares at that path", () => {
    expect(remix.settings.remappings).toEqual(["@openzeppelin/=node_modules/@openzeppelin/"]);
    expect((require("@openzeppelin/contracts/package.json") as { version: string }).version).toMatch(/^5\.7\./);
    expect(readFileSync("scripts/remixd.ts", "utf8")).toContain('const OVERLAY = "node_modules/@openzeppelin";');
  });

  it("docs/remix.md wires the roles as ignition/roles.ts does", () => {
    const guide = readFileSync("docs/remix.md", "utf8");
    for (const map of [registryFunctionRoles, factoryFunctionRoles, collectionFunctionRoles]) {
      for (const [role, signatures] of Object.entries(map)) {
        const list = JSON.stringify(signatures.map(selector));
        expect(guide).toMatch(
          new RegExp(`\\| \`${Roles[role as keyof typeof Roles]}\`\\s+\\| \`${list.replace(/[[\]]/g, "\\$&")}\``),
        );
      }
    }
  });
});
