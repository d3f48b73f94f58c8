import { BrowserProvider } from "ethers";
import { network } from "hardhat";

import PlatformModule from "../../ignition/modules/Platform.js";
import { createSeedCustody } from "../../server/modules/wallets/custody.js";
import type { DatabaseUnderTest } from "./helpers.js";

/** An in-process chain with the platform deployed, its roles held by the server's custody accounts. */
export async function deployChain(mnemonic: string) {
  const connection = await network.create();
  const custody = createSeedCustody(mnemonic);
  const deployed = await connection.ignition.deploy(PlatformModule, {
    parameters: {
      Platform: {
        kycOperator: custody.platformAddress("kycOperator"),
        compliance: custody.platformAddress("compliance"),
        publisher: custody.platformAddress("publisher"),
        platformAdmin: custody.platformAddress("platformAdmin"),
        minter: custody.platformAddress("minter"),
      },
    },
  });
  const provider = new BrowserProvider(connection.provider);
  const addresses = {
    accessManager: await deployed.accessManager.getAddress(),
    identityRegistry: await deployed.identityRegistry.getAddress(),
    collectionFactory: await deployed.factory.getAddress(),
  };
  return { connection, custody, provider, addresses };
}

/**
 * A whole platform on an in-process chain: the server on PGlite (or the given database) with the
 * chain, its HTTP host listening (payment notifications arrive over HTTP),
 * and helpers for a collection on sale and a collector who paid.
 */
export async function createChainWorld(env: Record<string, string> = {}, database?: DatabaseUnderTest) {
  const { createChain } = await import("../../server/chain/client.js");
  const { buildHttpApp } = await import("../../server/http/app.js");
  const helpers = await import("./helpers.js");
  const mnemonic = helpers.testConfig().secrets.walletMnemonic;
  const setup = await deployChain(mnemonic);
  const chain = createChain({ ...setup, confirmations: 1, gasPrice: 0n });
  const port = await helpers.freePort();
  const platformWith = (withChain = chain) =>
    helpers.createTestPlatform(database ?? helpers.databasesUnderTest()[0]!, {
      env: { WALLET_MNEMONIC: mnemonic, PUBLIC_ORIGIN: `http://127.0.0.1:${port}`, MINT_BATCH_SIZE: "10", ...env },
      overrides: { chain: withChain, custody: setup.custody },
    });
  const test = await platformWith();
  const app = await buildHttpApp(test.platform, { logger: false });
  await app.listen({ host: "127.0.0.1", port });
  let keyCounter = 0;

  /** A collection published on chain, on sale now. */
  async function onSale(editionSize = 20) {
    const staff = await helpers.login(test);
    const issuerId = await helpers.promote(test.platform, staff.user.id, "issuer_staff");
    const { sha256 } = await test.platform.catalog.registerMedia(test.platform.db, issuerId!, helpers.pngBytes());
    const { caller } = await helpers.callerFor(test.platform, { token: staff.token });
    const now = test.clock.now().getTime();
    const draft = await caller.studio.createDraft({
      title: "清明上河图·虹桥",
      description: "d",
      creator: "张择端",
      story: "s",
      mediaSha256: sha256,
      editionSize,
      priceFen: 990,
      // A start in the past is refused, so the sale opens a minute after publication (the clock is moved on).
      saleStartsAt: new Date(now + 60_000),
      saleEndsAt: new Date(now + 86_400_000),
      perPersonLimit: 3,
      lockDays: 180,
      regiftDays: 730,
    });
    await caller.studio.submit({ collectionId: draft.id });
    const operator = await helpers.login(test);
    await helpers.promote(test.platform, operator.user.id, "operator");
    const { caller: ops } = await helpers.callerFor(test.platform, { token: operator.token });
    await ops.review.decide({ collectionId: draft.id, approve: true });
    const published = await caller.studio.publish({ collectionId: draft.id });
    test.clock.advance(60_000);
    return published;
  }

  /** A verified collector, bound on chain, who has paid for `quantity` editions. */
  async function paidBuyer(collectionId: number, quantity = 1) {
    const buyer = await helpers.verifiedCollector(test);
    await test.platform.registrySync!.runOnce();
    const order = await buyer.caller.drops.reserve({
      collectionId,
      quantity,
      idempotencyKey: `world-key-${++keyCounter}`,
    });
    const intent = await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
    await app.inject({ method: "POST", url: `${intent.cashierPath}/pay` });
    return { buyer, order, address: (await buyer.caller.kyc.status()).address! };
  }

  return {
    test,
    app,
    chain,
    setup,
    onSale,
    paidBuyer,
    platformWith,
    async close() {
      await app.close();
      await test.close();
    },
  };
}
