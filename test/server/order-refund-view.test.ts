import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createChainWorld } from "./chain.js";
import { databasesUnderTest, expectAppError, loggedInOperator, verifiedCollector } from "./helpers.js";

/**
 * What a buyer sees of their order's refund (orders.mine, orders.get): a minted order refunded after a
 * regulator's takedown stays `minted`, and carries its refund's state, amount and category, first requested,
 * then refunded once the provider's notification arrives; an operator's refund of a paid order likewise,
 * without the operator's words. Only the buyer sees it.
 */

const REGULATOR = 2;

for (const database of databasesUnderTest()) {
  describe(`a buyer's view of their order's refund (${database.name})`, () => {
    let world: Awaited<ReturnType<typeof createChainWorld>>;

    beforeEach(async () => {
      world = await createChainWorld({}, database);
    });
    afterEach(async () => {
      await world.close();
    });

    const operator = () => loggedInOperator(world.test);

    it("shows a taken-down minted order as refunding, then refunded, with its amount and category, to its buyer only", async () => {
      const platform = world.test.platform;
      const collection = await world.onSale();
      const bought = await world.paidBuyer(collection.id, 2);
      await platform.mintWorker!.runOnce();
      const buyer = bought.buyer.caller;
      const before = await buyer.orders.get({ orderNo: bought.order.orderNo });
      expect(before).toMatchObject({ status: "minted", amountFen: 1980, refund: null });

      // The provider cannot be reached when the takedown's refund is asked for (or the process dies then).
      const provider = platform.sandboxPayments!;
      const refund = provider.refund;
      provider.refund = () => Promise.reject(new Error("connect ECONNREFUSED"));
      const a = await operator();
      const b = await operator();
      const requested = await a.caller.compliance.requestTakedown({
        collectionId: collection.id,
        reasonCode: REGULATOR,
        reason: "网信办通知下架",
      });
      expect((await b.caller.compliance.approve({ actionId: requested.actionId })).status).toBe("done");
      provider.refund = refund;

      const refunding = {
        status: "requested",
        amountFen: 1980,
        refundedFen: 0,
        kind: "takedown",
        reasonCode: REGULATOR,
      };
      const detail = await buyer.orders.get({ orderNo: bought.order.orderNo });
      expect(detail).toMatchObject({ status: "minted", refund: refunding });
      const [listed] = (await buyer.orders.mine()).filter((order) => order.orderNo === bought.order.orderNo);
      expect(listed).toMatchObject({ status: "minted", title: collection.title, refund: refunding });
      // Neither the operators' words nor anyone's phone go to the buyer.
      const told = JSON.stringify([detail, listed]);
      expect(told).not.toContain("网信办");
      expect(told).not.toContain("taken down");
      expect(told).not.toContain(a.phone.slice(-4));

      // Another collector sees nothing of it: not the order, not its refund.
      const other = await verifiedCollector(world.test);
      await expectAppError(other.caller.orders.get({ orderNo: bought.order.orderNo }), "order.notFound");
      expect((await other.caller.orders.mine()).map((order) => order.orderNo)).not.toContain(bought.order.orderNo);

      // The refund is asked again; the provider's notification confirms it.
      world.test.clock.advance(31_000);
      expect(await platform.payments.resumeRefunds(platform.db, 30_000)).toBe(1);
      await provider.whenIdle();
      expect(provider.trade(bought.order.orderNo)!.refundedFen).toBe(1980);
      const refunded = { ...refunding, status: "refunded", refundedFen: 1980 };
      expect(await buyer.orders.get({ orderNo: bought.order.orderNo })).toMatchObject({
        status: "minted",
        refund: refunded,
      });
      expect((await buyer.orders.mine()).find((order) => order.orderNo === bought.order.orderNo)).toMatchObject({
        refund: refunded,
      });
      await expectAppError(other.caller.orders.get({ orderNo: bought.order.orderNo }), "order.notFound");
    });

    it("shows an operator's refund of a paid order as the operator's, without their words anywhere", async () => {
      const platform = world.test.platform;
      const collection = await world.onSale();
      const bought = await world.paidBuyer(collection.id, 1);
      const ops = await operator();
      await ops.caller.payments.refund({ orderNo: bought.order.orderNo, reason: "用户来电申请退款" });
      await platform.sandboxPayments!.whenIdle();
      const detail = await bought.buyer.caller.orders.get({ orderNo: bought.order.orderNo });
      expect(detail).toMatchObject({
        status: "refunded",
        refund: { status: "refunded", amountFen: 990, refundedFen: 990, kind: "operator", reasonCode: null },
      });
      // The refund tells its kind, not the operator's words; nor does the order's history.
      expect(JSON.stringify(detail)).not.toContain("来电");
      expect(detail.history.map((entry) => entry.to)).toContain("refunded");
      const [mine] = await bought.buyer.caller.orders.mine();
      expect(mine!.refund).toMatchObject({ kind: "operator", status: "refunded" });
    });
  });
}
