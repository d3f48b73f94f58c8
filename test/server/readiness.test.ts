import { randomBytes } from "node:crypto";

import { Mnemonic } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createChain } from "../../server/chain/client.js";
import { buildHttpApp } from "../../server/http/app.js";
import { createSeedCustody } from "../../server/modules/wallets/custody.js";
import { deployChain } from "./chain.js";
import { createTestPlatform, databasesUnderTest, freePort, testConfig } from "./helpers.js";

/**
 * /readyz says "ready" only when the platform can do its work: the database
 * and the chain answer, the chain is the configured one, the deployment's
 * contracts exist, the server's accounts hold their roles, and a configured
 * Redis answers. Each refusal names what is wrong.
 */
describe("readiness", () => {
  const mnemonic = testConfig().secrets.walletMnemonic;
  let setup: Awaited<ReturnType<typeof deployChain>>;
  let chainId = 0;

  beforeAll(async () => {
    setup = await deployChain(mnemonic);
    chainId = Number((await setup.provider.getNetwork()).chainId);
  });
  afterAll(async () => {
    await setup?.connection.close();
  });

  async function readiness(
    env: Record<string, string>,
    options: { custody?: ReturnType<typeof createSeedCustody>; addresses?: typeof setup.addresses } = {},
  ) {
    const custody = options.custody ?? setup.custody;
    const chain = createChain({
      provider: setup.provider,
      addresses: options.addresses ?? setup.addresses,
      custody,
      confirmations: 1,
      gasPrice: 0n,
    });
    const test = await createTestPlatform(databasesUnderTest()[0]!, {
      env: { WALLET_MNEMONIC: mnemonic, ...env },
      overrides: { chain, custody },
    });
    const app = await buildHttpApp(test.platform, { logger: false });
    try {
      const answer = await app.inject("/readyz");
      return { status: answer.statusCode, body: answer.json() as Record<string, unknown> };
    } finally {
      await app.close();
      await test.close();
    }
  }

  it("is ready on the configured chain with the deployment and every role in place", async () => {
    const ready = await readiness({ CHAIN_ID: String(chainId) });
    expect(ready).toEqual({ status: 200, body: { status: "ready", database: true, chain: true } });
  });

  it("is not ready on a chain with another id", async () => {
    const wrong = await readiness({ CHAIN_ID: String(chainId + 1) });
    expect(wrong.status).toBe(503);
    expect(wrong.body.problems).toEqual([`chain: the chain's id is ${chainId}, CHAIN_ID says ${chainId + 1}`]);
  });

  it("is not ready when the deployment file names addresses without contracts", async () => {
    const nowhere = `0x${randomBytes(20).toString("hex")}`;
    const missing = await readiness({}, { addresses: { ...setup.addresses, identityRegistry: nowhere } });
    expect(missing.status).toBe(503);
    expect(String((missing.body.problems as string[])[0])).toMatch(/no contract at identityRegistry/);
  });

  it("is not ready when the role keys are not the deployment's (a wrong WALLET_MNEMONIC)", async () => {
    const stranger = createSeedCustody(Mnemonic.fromEntropy(randomBytes(16)).phrase);
    const wrong = await readiness({}, { custody: stranger });
    expect(wrong.status).toBe(503);
    const problems = wrong.body.problems as string[];
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^chain: the kycOperator account 0x[0-9a-fA-F]{40} lacks its role/);
    expect(JSON.stringify(wrong.body)).not.toMatch(/[0-9a-f]{64}/); // no key material
  });

  it("is not ready when the configured Redis does not answer", async () => {
    const port = await freePort();
    const down = await readiness({ REDIS_URL: `redis://127.0.0.1:${port}/0` });
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: "not-ready", database: true, chain: true, redis: false });
  });
});
