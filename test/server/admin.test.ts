import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createChainWorld } from "./chain.js";
import { callerFor, expectAppError, expectInputError, login, promote, stepUp, verifiedCollector } from "./helpers.js";

/**
 * The admin procedures behind the issuer and operator UIs: sales per
 * collection for its issuer only, and the operator's freezes (on chain,
 * audited), failed-verification list and order search.
 */
describe("admin: issuer sales and operator controls", () => {
  let world: Awaited<ReturnType<typeof createChainWorld>>;

  beforeEach(async () => {
    world = await createChainWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  async function operator() {
    const person = await login(world.test);
    await promote(world.test.platform, person.user.id, "operator");
    return (await callerFor(world.test.platform, { token: person.token })).caller;
  }

  async function staffOf(collectionId: number) {
    const { collection } = await world.test.platform.catalog.getPublished(world.test.platform.db, collectionId);
    const person = await login(world.test);
    await promote(world.test.platform, person.user.id, "issuer_staff", collection.issuerId);
    return (await callerFor(world.test.platform, { token: person.token })).caller;
  }

  it("shows an issuer sold, reserved and available editions, revenue per hour and orders by state", async () => {
    const collection = await world.onSale(20);
    await world.paidBuyer(collection.id, 2);
    await world.paidBuyer(collection.id, 1);
    const reserving = await verifiedCollector(world.test);
    await reserving.caller.drops.reserve({
      collectionId: collection.id,
      quantity: 1,
      idempotencyKey: "reserve-only-1",
    });
    await world.test.platform.mintWorker!.runOnce();

    const sales = await (await staffOf(collection.id)).studio.sales({ collectionId: collection.id });
    expect(sales.stock).toEqual({ editionSize: 20, sold: 3, reserved: 1, available: 16 });
    expect(sales.revenueFen).toBe(3 * 990);
    expect(sales.paidOrders).toBe(2);
    expect(sales.series.reduce((sum, point) => sum + point.editions, 0)).toBe(3);
    expect(sales.ordersByStatus).toEqual({ minted: 2, created: 1 });
  });

  it("hides another issuer's sales as not found", async () => {
    const collection = await world.onSale();
    const otherStaff = await login(world.test);
    await promote(world.test.platform, otherStaff.user.id, "issuer_staff");
    const { caller } = await callerFor(world.test.platform, { token: otherStaff.token });
    await expectAppError(caller.studio.sales({ collectionId: collection.id }), "collection.notFound", "NOT_FOUND");
  });

  it("freezes an account on chain so it can neither receive nor gift, and unfreezes it, each audited", async () => {
    const collection = await world.onSale();
    const owner = await world.paidBuyer(collection.id);
    await world.test.platform.mintWorker!.runOnce();
    const ops = await operator();

    await ops.ops.freezeAccount({ userId: owner.buyer.user.id, frozen: true, reason: "疑似场外交易" });
    const registry = world.chain.registry;
    // The person is frozen (their identity), not only this wallet.
    expect((await registry.bindingOf(owner.address)).identityFrozen).toBe(true);
    expect(await registry.isVerified(owner.address)).toBe(false);
    const second = await verifiedCollector(world.test);
    await world.test.platform.registrySync!.runOnce();
    expect(
      await world.chain
        .collection(collection.contractAddress!)
        .canTransfer(owner.address, (await second.caller.kyc.status()).address!, 1),
    ).toBe(false);

    // Found by phone, the person shows frozen, verified, with their order and collectible; the phone masked.
    const found = await ops.ops.findAccount({ phone: owner.buyer.phone });
    expect(found).toMatchObject({ id: owner.buyer.user.id, frozen: true, verification: { state: "verified" } });
    expect(found.phoneMasked).toMatch(/^\d{3}\*{4}\d{4}$/);
    expect(JSON.stringify(found)).not.toContain(owner.buyer.phone);
    expect(found.orders).toHaveLength(1);
    expect(found.orders[0]).toMatchObject({ title: collection.title, buyerMasked: found.phoneMasked });
    expect(found.collectibles).toHaveLength(1);

    await ops.ops.freezeAccount({ userId: owner.buyer.user.id, frozen: false, reason: "核实无误" });
    expect((await registry.bindingOf(owner.address)).identityFrozen).toBe(false);
    expect((await ops.ops.findAccount({ phone: owner.buyer.phone })).frozen).toBe(false);
    expect(await registry.isVerified(owner.address)).toBe(true);
    const actions = (await ops.audit.recent({ limit: 10 })).map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(["account.frozen", "account.unfrozen"]));
    // The log filtered by action, the actor and the subject named but masked.
    const frozen = await ops.audit.recent({ limit: 10, action: "account.frozen", actorRole: "operator" });
    expect(frozen).toHaveLength(1);
    expect(frozen[0]).toMatchObject({ subjectName: found.phoneMasked });
    expect(frozen[0]!.actorMasked).toMatch(/^\d{3}\*{4}\d{4}$/);
    expect(await ops.audit.actions()).toEqual(expect.arrayContaining(["account.frozen", "account.unfrozen"]));
  });

  it("freezes a single token in its collection contract and unfreezes it", async () => {
    const collection = await world.onSale();
    const { buyer } = await world.paidBuyer(collection.id);
    await world.test.platform.mintWorker!.runOnce();
    const ops = await operator();
    const contract = world.chain.collection(collection.contractAddress!);

    // Before acting, the console says what and whose: the collection's title, the token, the holder masked.
    const target = await ops.ops.tokenForFreeze({ collectionId: collection.id, tokenId: 1 });
    expect(target).toMatchObject({ title: collection.title, tokenId: 1, frozen: false });
    expect(target.holderMasked).toBe(buyer.user.phoneMasked);
    expect(JSON.stringify(target)).not.toContain(buyer.phone);
    await expectAppError(
      ops.ops.tokenForFreeze({ collectionId: collection.id, tokenId: 2 }),
      "ops.tokenNotFound",
      "NOT_FOUND",
    );
    await expectAppError(
      ops.ops.tokenForFreeze({ collectionId: 999_999, tokenId: 1 }),
      "collection.notFound",
      "NOT_FOUND",
    );

    await ops.ops.freezeToken({ collectionId: collection.id, tokenId: 1, frozen: true, reason: "权属争议" });
    expect(await contract.isTokenFrozen(1)).toBe(true);
    expect((await ops.ops.tokenForFreeze({ collectionId: collection.id, tokenId: 1 })).frozen).toBe(true);
    await ops.ops.freezeToken({ collectionId: collection.id, tokenId: 1, frozen: false, reason: "争议解决" });
    expect(await contract.isTokenFrozen(1)).toBe(false);
  });

  it("refuses to freeze an unknown or unverified account, and needs a reason", async () => {
    const ops = await operator();
    await expectAppError(
      ops.ops.freezeAccount({ userId: 999_999, frozen: true, reason: "原因" }),
      "ops.accountNotFound",
    );
    const unverified = await login(world.test);
    await expectAppError(
      ops.ops.freezeAccount({ userId: unverified.user.id, frozen: true, reason: "原因" }),
      "ops.noCustodialAddress",
    );
    await expectInputError(
      ops.ops.freezeAccount({ userId: unverified.user.id, frozen: true, reason: "" }),
      "ops.reasonRequired",
    );
    await expectAppError(ops.ops.findAccount({ phone: "13999999999" }), "ops.accountNotFound", "NOT_FOUND");
    await expectInputError(ops.ops.findAccount({ phone: "123" }), "auth.phone.invalid");
    expect(await ops.ops.findAccount({ phone: unverified.phone })).toMatchObject({
      verification: { state: "unverified" },
      frozen: null,
      orders: [],
      collectibles: [],
    });
  });

  it("lists failed verifications without names or ID numbers, and finds orders by state or number", async () => {
    const person = await login(world.test);
    await stepUp(world.test, person.caller, "kyc");
    await expectAppError(
      person.caller.kyc.submit({ name: "王不符", idNumber: "11010519491231002X" }),
      "kyc.nameMismatch",
    );
    const collection = await world.onSale();
    const paid = await world.paidBuyer(collection.id);
    const ops = await operator();

    const exceptions = await ops.ops.kycExceptions({});
    expect(exceptions[0]).toMatchObject({ userId: person.user.id, outcome: "mismatch" });
    expect(JSON.stringify(exceptions)).not.toContain("王不符");

    const byNumber = await ops.ops.orders({ orderNo: paid.order.orderNo });
    expect(byNumber).toHaveLength(1);
    expect(byNumber[0]).toMatchObject({ orderNo: paid.order.orderNo, status: "paid", amountFen: 990 });
    expect(await ops.ops.orders({ status: "refunded" })).toEqual([]);
  });

  it("lets only operators use the operator controls", async () => {
    const collector = await verifiedCollector(world.test);
    await expectAppError(collector.caller.ops.kycExceptions({}), "auth.forbidden", "FORBIDDEN");
    await expectAppError(
      collector.caller.ops.freezeAccount({ userId: collector.user.id, frozen: true, reason: "原因" }),
      "auth.forbidden",
    );
    const { caller: anonymous } = await callerFor(world.test.platform);
    await expectAppError(anonymous.ops.orders({}), "auth.required", "UNAUTHORIZED");
  });
});
