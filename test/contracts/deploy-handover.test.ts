import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { network } from "hardhat";
import { describe, expect, it } from "vitest";

import AdminHandoverModule from "../../ignition/modules/AdminHandover.js";
import { Roles } from "../../ignition/roles.js";
import { CANCUN_PROBE_RESULT, checkChain } from "../../scripts/deploy/chain-checks.js";
import { expectRevert } from "./revert.js";

describe("AdminHandover (Ignition module)", () => {
  it("leaves AccessManager role 0 with the operator's account and none with the deployer", async () => {
    const { ethers, ignition } = await network.create();
    const signers = await ethers.getSigners();
    const at = (index: number): HardhatEthersSigner => signers[index]!;
    const [deployer, kyc, compliance, publisher, platformAdmin, minter, operator, stranger] = [
      0, 1, 2, 3, 4, 5, 6, 7,
    ].map(at) as [
      HardhatEthersSigner,
      HardhatEthersSigner,
      HardhatEthersSigner,
      HardhatEthersSigner,
      HardhatEthersSigner,
      HardhatEthersSigner,
      HardhatEthersSigner,
      HardhatEthersSigner,
    ];
    const { accessManager } = await ignition.deploy(AdminHandoverModule, {
      parameters: {
        Platform: {
          kycOperator: kyc.address,
          compliance: compliance.address,
          publisher: publisher.address,
          platformAdmin: platformAdmin.address,
          minter: minter.address,
          admin: operator.address,
          adminExecutionDelay: 0n,
        },
      },
    });
    const manager = await ethers.getContractAt("AccessManager", await accessManager.getAddress());

    expect(await manager.hasRole(Roles.ADMIN, deployer.address)).toEqual([false, 0n]);
    expect(await manager.hasRole(Roles.ADMIN, operator.address)).toEqual([true, 0n]);
    // The platform's roles are untouched by the handover.
    expect((await manager.hasRole(Roles.KYC_OPERATOR, kyc.address))[0]).toBe(true);
    expect((await manager.hasRole(Roles.PLATFORM_ADMIN, platformAdmin.address))[0]).toBe(true);

    // The deployer can no longer grant anything; the operator can.
    await expectRevert(
      manager.connect(deployer).grantRole(Roles.KYC_OPERATOR, stranger.address, 0),
      manager,
      "AccessManagerUnauthorizedAccount",
    );
    await (await manager.connect(operator).grantRole(Roles.KYC_OPERATOR, stranger.address, 0)).wait();
    expect((await manager.hasRole(Roles.KYC_OPERATOR, stranger.address))[0]).toBe(true);
  });
});

describe("deploy:check (scripts/deploy/chain-checks.ts)", () => {
  async function chainWith(override: Record<string, unknown> = {}) {
    const connection = await network.create({ override } as Parameters<typeof network.create>[0]);
    const [from] = (await connection.provider.request({ method: "eth_accounts" })) as string[];
    return { provider: connection.provider, from: from! };
  }

  it("passes a Cancun chain with a zero base fee, deploying the probe at gas price 0", async () => {
    const { provider, from } = await chainWith();
    const results = await checkChain({ provider, from, expectedChainId: 31337n, gasPrice: 0n });
    expect(results.map((r) => [r.name, r.ok])).toEqual([
      ["chain id", true],
      ["gas price", true],
      ["cancun", true],
    ]);
    const address = /deployed at (0x[0-9a-fA-F]{40})/.exec(results[2]!.message)![1]!;
    expect(await provider.request({ method: "eth_getCode", params: [address, "latest"] })).toBe(CANCUN_PROBE_RESULT);
  });

  it("refuses another chain id and sends nothing", async () => {
    const { provider, from } = await chainWith();
    const results = await checkChain({ provider, from, expectedChainId: 20261124n, gasPrice: 0n });
    expect(results).toEqual([
      {
        name: "chain id",
        ok: false,
        message: "the node at CHAIN_RPC_URL serves chain id 31337, CHAIN_ID says 20261124: wrong node or wrong setting",
      },
    ]);
    expect(await provider.request({ method: "eth_getTransactionCount", params: [from, "latest"] })).toBe("0x0");
  });

  it("refuses a chain that does not accept gas price 0", async () => {
    const { provider, from } = await chainWith({ initialBaseFeePerGas: 1_000_000_000n });
    const results = await checkChain({ provider, from, expectedChainId: 31337n, gasPrice: 0n });
    const gas = results.find((r) => r.name === "gas price")!;
    expect(gas.ok).toBe(false);
    expect(gas.message).toMatch(
      /^the node refused a transaction at gas price 0 wei \(CHAIN_GAS_PRICE\): .*baseFeePerGas/,
    );
    // A price the chain accepts passes.
    const paid = await checkChain({ provider, from, expectedChainId: 31337n, gasPrice: 10_000_000_000n });
    expect(paid.every((r) => r.ok)).toBe(true);
  });

  it("refuses an EVM before Cancun, by eth_call alone too", async () => {
    const { provider, from } = await chainWith({ hardfork: "shanghai" });
    for (const send of [false, true]) {
      const cancun = (await checkChain({ provider, from, expectedChainId: 31337n, gasPrice: 0n, send })).find(
        (r) => r.name === "cancun",
      )!;
      expect(cancun.ok).toBe(false);
      expect(cancun.message).toMatch(/^the chain's EVM does not run Cancun \(.*invalid opcode\)/);
    }
  });
});
