import type { Provider } from "ethers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { type Chain, createChain } from "../../server/chain/client.js";
import { deployChain } from "./chain.js";
import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  login,
  makeIdNumber,
  stepUp,
  testConfig,
} from "./helpers.js";

const [pglite] = databasesUnderTest();

/** A provider that fails every call while `down` is true, as an unreachable RPC endpoint would. */
function flakyProvider(inner: Provider) {
  const state = { down: true };
  const proxy = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (state.down) return Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:8545"));
        return value.apply(target, args);
      };
    },
  });
  return { provider: proxy, state };
}

describe("on-chain registry binding", () => {
  let test: TestPlatform;
  let chain: Chain;
  let setup: Awaited<ReturnType<typeof deployChain>>;

  beforeEach(async () => {
    const config = testConfig();
    setup = await deployChain(config.secrets.walletMnemonic);
    chain = createChain({ ...setup, confirmations: 1, gasPrice: 0n });
    test = await createTestPlatform(pglite!, {
      env: { WALLET_MNEMONIC: config.secrets.walletMnemonic },
      overrides: { chain, custody: setup.custody },
    });
  });
  afterEach(async () => {
    await test.close();
  });

  it("binds a verified collector's address with the identity commitment, and the status shows it", async () => {
    const { caller, user } = await login(test);
    await stepUp(test, caller, "kyc");
    const idNumber = makeIdNumber("19900307");
    const status = await caller.kyc.submit({ name: "张晓明", idNumber });
    expect(await chain.registry.isVerified(status.address!)).toBe(false);

    expect(await test.platform.registrySync!.runOnce()).toEqual({ confirmed: 1, failed: 0 });
    expect(await chain.registry.isVerified(status.address!)).toBe(true);
    const binding = await chain.registry.bindingOf(status.address!);
    expect(binding.commitment).toBe(test.platform.kyc.commitmentFor(idNumber));
    expect(binding.expiresAt).toBe(BigInt(Math.floor(status.expiresAt!.getTime() / 1000)));
    expect((await caller.kyc.status()).onChain).toBe(true);
    expect(status.address).toBe(setup.custody.collectorAddress(user.id));
  });

  it("does nothing more on a second run, and confirms without sending when the chain already has the binding", async () => {
    const first = await login(test);
    await stepUp(test, first.caller, "kyc");
    const status = await first.caller.kyc.submit({ name: "张晓明", idNumber: makeIdNumber("19900307") });
    // A worker that crashed after its transaction was mined: the binding is on chain, the row still pending.
    await chain.send("kycOperator", ({ registry }, overrides) =>
      registry.bind(
        status.address!,
        test.platform.kyc.commitmentFor(makeIdNumber("19900307")),
        1,
        BigInt(Math.floor(status.expiresAt!.getTime() / 1000)),
        overrides,
      ),
    );
    const blockBefore = await setup.provider.getBlockNumber();
    expect(await test.platform.registrySync!.runOnce()).toEqual({ confirmed: 1, failed: 0 });
    expect(await setup.provider.getBlockNumber()).toBe(blockBefore);
    expect(await test.platform.registrySync!.runOnce()).toEqual({ confirmed: 0, failed: 0 });
  });

  it("sends concurrent bindings from one role without nonce collisions", async () => {
    const people = await Promise.all(Array.from({ length: 5 }, () => login(test)));
    for (const [i, person] of people.entries()) {
      await stepUp(test, person.caller, "kyc");
      await person.caller.kyc.submit({ name: "李华", idNumber: makeIdNumber("19900307", "110101", String(200 + i)) });
    }
    const claimed = await Promise.all([test.platform.registrySync!.runOnce(), test.platform.registrySync!.runOnce()]);
    expect(claimed.reduce((sum, r) => sum + r.confirmed, 0)).toBe(5);
    for (const person of people) {
      const status = await person.caller.kyc.status();
      expect(await chain.registry.isVerified(status.address!)).toBe(true);
    }
  });

  it("keeps bindings through a chain outage and completes them when it returns", async () => {
    const flaky = flakyProvider(setup.provider);
    const outageChain = createChain({ ...setup, provider: flaky.provider, confirmations: 1, gasPrice: 0n });
    const errors: unknown[] = [];
    const outage = await createTestPlatform(pglite!, {
      overrides: { chain: outageChain, custody: setup.custody, onBackgroundError: (e) => errors.push(e) },
    });
    try {
      const { caller } = await login(outage);
      await stepUp(outage, caller, "kyc");
      const status = await caller.kyc.submit({ name: "张晓明", idNumber: makeIdNumber("19900307") });
      expect(await outage.platform.registrySync!.runOnce()).toEqual({ confirmed: 0, failed: 1 });
      expect(errors).toHaveLength(1);
      // Backoff: not retried before its time.
      expect(await outage.platform.registrySync!.runOnce()).toEqual({ confirmed: 0, failed: 0 });
      flaky.state.down = false;
      outage.clock.advance(2_000);
      expect(await outage.platform.registrySync!.runOnce()).toEqual({ confirmed: 1, failed: 0 });
      expect(await chain.registry.isVerified(status.address!)).toBe(true);
    } finally {
      await outage.close();
    }
  });

  it("never lets a key out of custody", async () => {
    const signer = setup.custody.platformSigner("kycOperator", setup.provider);
    expect(JSON.stringify(signer)).not.toMatch(/privateKey|0x[0-9a-f]{64}/i);
    expect(Object.keys(signer)).not.toContain("privateKey");
    expect((signer as unknown as { privateKey?: string }).privateKey).toBeUndefined();
  });
});
