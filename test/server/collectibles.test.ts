import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createCollectiblesService } from "../../server/modules/collectibles/service.js";
import type { SessionUser } from "../../server/modules/identity/service.js";
import { createChainWorld } from "./chain.js";
import {
  callerFor,
  databasesUnderTest,
  expectAppError,
  login,
  stepUp,
  verifiedCollector,
  waitForResend,
} from "./helpers.js";

const DAY_MS = 86_400_000;

describe("collectibles: certificates, public verification and gifts", () => {
  let world: Awaited<ReturnType<typeof createChainWorld>>;

  beforeEach(async () => {
    world = await createChainWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  async function minted() {
    const collection = await world.onSale();
    const owner = await world.paidBuyer(collection.id);
    await world.test.platform.mintWorker!.runOnce();
    return { collection, owner };
  }

  it("lists a collector's collectibles with a certificate read from the chain", async () => {
    const { collection, owner } = await minted();
    const [item] = await owner.buyer.caller.collectibles.mine();
    expect(item).toMatchObject({ collectionId: collection.id, tokenId: 1, title: "清明上河图·虹桥", editionSize: 20 });
    const certificate = await owner.buyer.caller.collectibles.certificate({ collectionId: collection.id, tokenId: 1 });
    const mintedAt = certificate.acquiredAt!.getTime();
    expect(certificate).toMatchObject({
      title: "清明上河图·虹桥",
      issuerName: "测试博物馆",
      edition: "1 / 20",
      contractAddress: collection.contractAddress,
      owner: owner.address,
      ownerMasked: `${owner.address.slice(0, 6)}…${owner.address.slice(-4)}`,
      contentHash: `0x${collection.mediaSha256}`,
      acquiredBy: "minted",
    });
    expect(certificate.mintTxHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(certificate.unlocksAt!.getTime() - mintedAt).toBe(180 * DAY_MS);
    const stranger = await verifiedCollector(world.test);
    await expectAppError(
      stranger.caller.collectibles.certificate({ collectionId: collection.id, tokenId: 1 }),
      "collectible.notFound",
      "NOT_FOUND",
    );
  });

  it("lets anyone verify a token by contract and id from the chain alone", async () => {
    const { collection, owner } = await minted();
    const { caller: anyone } = await callerFor(world.test.platform);
    const facts = await anyone.verify.token({ contractAddress: collection.contractAddress!, tokenId: 1 });
    expect(facts).toMatchObject({
      owner: owner.address,
      contentHash: `0x${collection.mediaSha256}`,
      edition: "1 / 20",
    });
    await expectAppError(
      anyone.verify.token({ contractAddress: collection.contractAddress!, tokenId: 2 }),
      "collectible.notFound",
    );
    await expectAppError(
      anyone.verify.token({ contractAddress: world.setup.addresses.identityRegistry, tokenId: 1 }),
      "collectible.notFound",
    );
  });

  it("refuses a gift inside the 180-day lock with the unlock date, and gives it after, to a confirmed recipient", async () => {
    const { collection, owner } = await minted();
    const friend = await verifiedCollector(world.test);
    await world.test.platform.registrySync!.runOnce();
    const looked = await owner.buyer.caller.gifts.lookup({ recipient: friend.phone });
    expect(looked.nameMasked).toBe("王**");

    await stepUp(world.test, owner.buyer.caller, "gift");
    const locked = await expectAppError(
      owner.buyer.caller.gifts.send({
        collectionId: collection.id,
        tokenId: 1,
        recipient: friend.phone,
        confirmNameMasked: "王**",
      }),
      "gift.locked",
      "PRECONDITION_FAILED",
    );
    expect((locked.cause as unknown as { params: { unlocksAt: string } }).params.unlocksAt).toMatch(/^\d{4}-/);

    // Time passes on the chain and on the platform alike.
    await world.setup.provider.send("evm_increaseTime", [180 * 86_400]);
    await world.setup.provider.send("evm_mine", []);
    world.test.clock.advance(180 * DAY_MS);
    // The step-up confirmed 180 days ago has lapsed; the refusals since gave it back, but time does not.
    await expectAppError(
      owner.buyer.caller.gifts.send({
        collectionId: collection.id,
        tokenId: 1,
        recipient: friend.phone,
        confirmNameMasked: "王**",
      }),
      "auth.stepUpRequired",
      "FORBIDDEN",
    );
    await stepUp(world.test, owner.buyer.caller, "gift");
    await expectAppError(
      owner.buyer.caller.gifts.send({
        collectionId: collection.id,
        tokenId: 1,
        recipient: friend.phone,
        confirmNameMasked: "李**",
      }),
      "gift.nameNotConfirmed",
      "BAD_REQUEST",
    );
    const sent = await owner.buyer.caller.gifts.send({
      collectionId: collection.id,
      tokenId: 1,
      recipient: String(friend.user.id),
      confirmNameMasked: "王**",
    });
    expect(sent.txHash).toMatch(/^0x/);
    // One code, one gift: the next gift needs a new code.
    await expectAppError(
      owner.buyer.caller.gifts.send({
        collectionId: collection.id,
        tokenId: 1,
        recipient: String(friend.user.id),
        confirmNameMasked: "王**",
      }),
      "auth.stepUpRequired",
      "FORBIDDEN",
    );
    const friendAddress = (await friend.caller.kyc.status()).address!;
    expect(await world.chain.collection(collection.contractAddress!).ownerOf(1)).toBe(friendAddress);
    expect(await owner.buyer.caller.collectibles.mine()).toEqual([]);
    const certificate = await friend.caller.collectibles.certificate({ collectionId: collection.id, tokenId: 1 });
    expect(certificate.acquiredBy).toBe("gifted");
    expect(certificate.unlocksAt!.getTime() - certificate.acquiredAt!.getTime()).toBe(730 * DAY_MS);
    expect(await friend.caller.collectibles.gifts()).toHaveLength(1);
  });

  it("refuses recipients who are unknown, unverified or oneself", async () => {
    const { owner } = await minted();
    await expectAppError(
      owner.buyer.caller.gifts.lookup({ recipient: "13900000000" }),
      "gift.recipientNotFound",
      "NOT_FOUND",
    );
    await expectAppError(owner.buyer.caller.gifts.lookup({ recipient: owner.buyer.phone }), "gift.recipientNotFound");
    const unverified = await login(world.test);
    await expectAppError(
      owner.buyer.caller.gifts.lookup({ recipient: unverified.phone }),
      "gift.recipientNotVerified",
      "PRECONDITION_FAILED",
    );
  });

  it("stops a sender walking the collector ids after 30 lookups in 10 minutes", async () => {
    const { owner } = await minted();
    const { RECIPIENT_LOOKUPS_PER_10_MINUTES } = await import("../../server/modules/collectibles/service.js");
    for (let i = 0; i < RECIPIENT_LOOKUPS_PER_10_MINUTES; i++) {
      await expectAppError(
        owner.buyer.caller.gifts.lookup({ recipient: `1390000${String(1000 + i)}` }),
        "gift.recipientNotFound",
      );
    }
    await expectAppError(
      owner.buyer.caller.gifts.lookup({ recipient: "13900009999" }),
      "auth.rateLimited",
      "TOO_MANY_REQUESTS",
    );
  });
});

/** A collector holding two tokens past their lock, and a verified friend bound on chain to give them to. */
async function unlockedTokensAndAFriend(world: Awaited<ReturnType<typeof createChainWorld>>) {
  const collection = await world.onSale();
  const owner = await world.paidBuyer(collection.id, 2);
  await world.test.platform.mintWorker!.runOnce();
  const friend = await verifiedCollector(world.test);
  await world.test.platform.registrySync!.runOnce();
  await world.setup.provider.send("evm_increaseTime", [180 * 86_400]);
  await world.setup.provider.send("evm_mine", []);
  world.test.clock.advance(180 * DAY_MS);
  return { collection, owner, friend };
}

describe.skipIf(!process.env.DATABASE_URL)("gift limits across server instances (PostgreSQL)", () => {
  it("holds simultaneous gifts of one person sent through two instances to the daily cap", async () => {
    const world = await createChainWorld({ GIFT_DAILY_CAP: "1" }, databasesUnderTest()[1]!);
    try {
      const { collection, owner, friend } = await unlockedTokensAndAFriend(world);
      const platform = world.test.platform;
      // A second server instance: its own services (and in-process gift queue) on the same database and chain.
      const otherInstance = createCollectiblesService({
        chain: platform.chain,
        identity: platform.identity,
        kyc: platform.kyc,
        wallets: platform.wallets,
        clock: platform.clock,
        giftDailyCap: 1,
        databaseKind: platform.database.kind,
      });
      const sender: SessionUser = {
        id: owner.buyer.user.id,
        role: "collector",
        issuerId: null,
        phoneMasked: "139****0000",
        status: "active",
      };
      const gift = (instance: typeof otherInstance, tokenId: number) =>
        instance.gift(platform.db, sender, {
          collectionId: collection.id,
          tokenId,
          recipient: friend.phone,
          confirmNameMasked: "王**",
        });
      const results = await Promise.allSettled([gift(platform.collectibles, 1), gift(otherInstance, 2)]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { code: "gift.dailyCap" } });
      expect(await friend.caller.collectibles.mine()).toHaveLength(1);
    } finally {
      await world.close();
    }
  });
});

describe("gift limits", () => {
  let world: Awaited<ReturnType<typeof createChainWorld>>;

  beforeEach(async () => {
    world = await createChainWorld({ GIFT_DAILY_CAP: "1" });
  });
  afterEach(async () => {
    await world.close();
  });

  const twoUnlockedTokensAndAFriend = () => unlockedTokensAndAFriend(world);

  it("holds simultaneous gifts of one person to the daily cap too", async () => {
    const { collection, owner, friend } = await twoUnlockedTokensAndAFriend();
    // Two sessions of the sender, each with its own step-up (one step-up buys one gift).
    await waitForResend();
    const elsewhere = await login(world.test, owner.buyer.phone);
    await stepUp(world.test, owner.buyer.caller, "gift");
    await stepUp(world.test, elsewhere.caller, "gift");
    const results = await Promise.allSettled(
      [owner.buyer.caller, elsewhere.caller].map((caller, index) =>
        caller.gifts.send({
          collectionId: collection.id,
          tokenId: index + 1,
          recipient: friend.phone,
          confirmNameMasked: "王**",
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { message: "gift.dailyCap" } });
    expect(await friend.caller.collectibles.mine()).toHaveLength(1);
  });

  it("holds each person to the daily gift cap, and lets operators suspend gifting (audited)", async () => {
    const { collection, owner, friend } = await twoUnlockedTokensAndAFriend();
    const gift = (tokenId: number) =>
      owner.buyer.caller.gifts.send({
        collectionId: collection.id,
        tokenId,
        recipient: friend.phone,
        confirmNameMasked: "王**",
      });

    await stepUp(world.test, owner.buyer.caller, "gift");
    await gift(1);
    await stepUp(world.test, owner.buyer.caller, "gift");
    await expectAppError(gift(2), "gift.dailyCap", "TOO_MANY_REQUESTS");

    const { promote } = await import("./helpers.js");
    const operator = await login(world.test);
    await promote(world.test.platform, operator.user.id, "operator");
    const { caller: ops } = await callerFor(world.test.platform, { token: operator.token });
    await ops.gifts.suspend({ userId: owner.buyer.user.id, suspended: true, reason: "疑似场外交易" });
    world.test.clock.advance(DAY_MS + 1000);
    await stepUp(world.test, owner.buyer.caller, "gift");
    await expectAppError(gift(2), "gift.suspended", "FORBIDDEN");
    await ops.gifts.suspend({ userId: owner.buyer.user.id, suspended: false, reason: "核查无误" });
    await gift(2);
    const audit = await ops.audit.recent({ limit: 5 });
    expect(audit.map((row) => row.action)).toContain("gifting.suspended");
  });
});
