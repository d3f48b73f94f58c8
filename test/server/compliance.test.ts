import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Chain } from "../../server/chain/client.js";
import { createCatalogService } from "../../server/modules/catalog/service.js";
import { createComplianceService } from "../../server/modules/compliance/service.js";
import { complianceActions } from "../../server/modules/compliance/tables.js";
import { refunds } from "../../server/modules/payments/tables.js";
import { auditLog } from "../../server/modules/audit/tables.js";
import { createChainWorld } from "./chain.js";
import {
  callerFor,
  databasesUnderTest,
  expectAppError,
  expectInputError,
  loggedInOperator,
  login,
  pngBytes,
  promote,
  verifiedCollector,
} from "./helpers.js";

/**
 * Compliance actions on chain (issues #18, #19, #21): recorded first (outbox row and audit entry in one
 * transaction, hostile text refused before anything is written), sent idempotently (a resend after a lost
 * receipt does not act twice), four eyes on recovery and takedown, and the takedown's effects: burned on
 * chain, shown as taken down, sale closed, buyers refunded, public verification still truthful.
 */

const REGULATOR = 2;

for (const database of databasesUnderTest()) {
  describe(`compliance actions (${database.name})`, () => {
    let world: Awaited<ReturnType<typeof createChainWorld>>;

    beforeEach(async () => {
      world = await createChainWorld({}, database);
    });
    afterEach(async () => {
      await world.close();
    });

    const operator = () => loggedInOperator(world.test);

    const db = () => world.test.platform.db;
    const actions = () => db().select().from(complianceActions);
    /** How many freezes and unfreezes of an identity the chain recorded. */
    const freezeEvents = async (commitment: string) => {
      const registry = world.chain.registry;
      // Up to the node's own latest block (the provider's cached block number may lag behind).
      const latest = Number(await world.setup.provider.send("eth_blockNumber", []));
      const frozen = await registry.queryFilter(registry.filters.IdentityFrozen(commitment), 0, latest);
      const unfrozen = await registry.queryFilter(registry.filters.IdentityUnfrozen(commitment), 0, latest);
      return frozen.length + unfrozen.length;
    };

    /** The platform's compliance service, over the same database, with a chain that fails as told. */
    function complianceWith(chain: Chain) {
      const p = world.test.platform;
      return createComplianceService({ ...p, chain, clock: p.clock });
    }

    it("refuses a reason with a NUL byte or a lone surrogate (4xx) before anything is written, chain included", async () => {
      const collection = await world.onSale();
      const owner = await world.paidBuyer(collection.id);
      await world.test.platform.mintWorker!.runOnce();
      const ops = await operator();
      const auditBefore = (await db().select().from(auditLog)).length;

      await expectInputError(
        ops.caller.ops.freezeAccount({ userId: owner.buyer.user.id, frozen: true, reason: "疑似场外\u0000交易" }),
        "input.text.control",
      );
      await expectInputError(
        ops.caller.ops.freezeToken({ collectionId: collection.id, tokenId: 1, frozen: true, reason: "争议\uD800" }),
        "input.text.surrogate",
      );
      await expectInputError(
        ops.caller.compliance.requestTakedown({
          collectionId: collection.id,
          reasonCode: REGULATOR,
          reason: "a\uDC00b",
        }),
        "input.text.surrogate",
      );
      expect((await world.chain.registry.bindingOf(owner.address)).identityFrozen).toBe(false);
      expect(await world.chain.collection(collection.contractAddress!).isTokenFrozen(1)).toBe(false);
      expect(await actions()).toEqual([]);
      expect((await db().select().from(auditLog)).length).toBe(auditBefore);
    });

    it("records a freeze before the chain is asked, retries a failed send, and never acts twice after a lost receipt", async () => {
      const collection = await world.onSale();
      const owner = await world.paidBuyer(collection.id);
      await world.test.platform.mintWorker!.runOnce();
      const ops = await operator();
      const operatorUser = { id: ops.user.id, role: "operator" as const };
      const commitment = await world.test.platform.compliance.commitmentOf(owner.address);
      const freeze = {
        kind: "identity.freeze" as const,
        subject: { userId: owner.buyer.user.id, commitment },
        reasonCode: 1,
        reason: "疑似场外交易",
      };

      // The node is away: the action and its audit entry are recorded, nothing on chain yet.
      const away = complianceWith({
        ...world.chain,
        send: () => Promise.reject(new Error("connect ECONNREFUSED")),
      } as Chain);
      const queued = await away.record(db(), operatorUser, freeze, "account.frozen");
      expect(queued.status).toBe("queued");
      const [row] = await actions();
      expect(row).toMatchObject({ status: "queued", attempts: 1, lastError: expect.stringContaining("ECONNREFUSED") });
      const [audit] = await db().select().from(auditLog).where(eq(auditLog.action, "account.frozen"));
      expect(audit!.details).toMatchObject({ actionId: row!.id, reason: "疑似场外交易" });
      expect((await world.chain.registry.bindingOf(owner.address)).identityFrozen).toBe(false);

      // The next round sends it.
      expect(await freezeEvents(commitment)).toBe(0);
      expect(await world.test.platform.compliance.runOnce(db())).toBe(1);
      expect((await world.chain.registry.bindingOf(owner.address)).identityFrozen).toBe(true);
      expect((await actions())[0]).toMatchObject({ status: "done", attempts: 2 });
      expect(await freezeEvents(commitment)).toBe(1);

      // An unfreeze whose transaction lands but whose receipt is lost: the resend finds the chain there already.
      const lost = complianceWith({
        ...world.chain,
        send: async (...args: Parameters<Chain["send"]>) => {
          await world.chain.send(...args);
          throw new Error("timeout waiting for receipt");
        },
      } as Chain);
      const unfreeze = await lost.record(
        db(),
        operatorUser,
        { ...freeze, kind: "identity.unfreeze" },
        "account.unfrozen",
      );
      expect(unfreeze.status).toBe("queued");
      expect((await world.chain.registry.bindingOf(owner.address)).identityFrozen).toBe(false);
      expect(await freezeEvents(commitment)).toBe(2);
      await world.test.platform.compliance.runOnce(db());
      expect(await freezeEvents(commitment)).toBe(2);
      const done = (await actions()).find((action) => action.id === unfreeze.actionId)!;
      expect(done).toMatchObject({ status: "done", txHash: null });
      expect(await world.test.platform.compliance.runOnce(db())).toBe(0);
    });

    it("takes a collection down by four eyes: refused to the requester and to collectors, acts once on a double approval, refunds buyers", async () => {
      const collection = await world.onSale();
      const first = await world.paidBuyer(collection.id, 2);
      const second = await world.paidBuyer(collection.id, 1);
      await world.test.platform.mintWorker!.runOnce();
      const unpaid = await verifiedCollector(world.test);
      const open = await unpaid.caller.drops.reserve({
        collectionId: collection.id,
        quantity: 1,
        idempotencyKey: "takedown-open",
      });
      const a = await operator();
      const b = await operator();
      const c = await operator();
      const contract = world.chain.collection(collection.contractAddress!);

      const requested = await a.caller.compliance.requestTakedown({
        collectionId: collection.id,
        reasonCode: REGULATOR,
        reason: "网信办通知下架",
      });
      expect(requested.status).toBe("awaiting_approval");
      expect(await contract.takenDown()).toBe(false);
      await expectAppError(
        a.caller.compliance.requestTakedown({ collectionId: collection.id, reasonCode: REGULATOR, reason: "重复申请" }),
        "compliance.pendingRequest",
        "CONFLICT",
      );
      await expectAppError(
        a.caller.compliance.approve({ actionId: requested.actionId }),
        "compliance.ownRequest",
        "FORBIDDEN",
      );
      await expectAppError(
        a.caller.compliance.reject({ actionId: requested.actionId, reason: "自己撤回" }),
        "compliance.ownRequest",
      );
      await expectAppError(
        unpaid.caller.compliance.approve({ actionId: requested.actionId }),
        "auth.forbidden",
        "FORBIDDEN",
      );
      const pending = await b.caller.compliance.list({ filter: "pending" });
      expect(pending).toHaveLength(1);
      expect(pending[0]).toMatchObject({ kind: "collection.takedown", title: collection.title, reasonCode: REGULATOR });
      expect(await contract.takenDown()).toBe(false);

      // Two operators approve at once: one decides, the chain is asked once.
      const results = await Promise.allSettled([
        b.caller.compliance.approve({ actionId: requested.actionId }),
        c.caller.compliance.approve({ actionId: requested.actionId }),
      ]);
      expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      const refused = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
      expect((refused.reason as Error).message).toBe("compliance.alreadyDecided");
      expect(await contract.takenDown()).toBe(true);
      const latest = Number(await world.setup.provider.send("eth_blockNumber", []));
      expect(await contract.queryFilter(contract.filters.CollectionTakenDown(), 0, latest)).toHaveLength(1);

      // Shown as taken down without artwork; no longer on sale; the unpaid order cancelled.
      const { caller: anonymous } = await callerFor(world.test.platform);
      const shown = await anonymous.catalog.get({ collectionId: collection.id });
      expect(shown).toMatchObject({
        takenDown: true,
        mediaUrl: null,
        saleState: "ended",
        takedownReasonCode: REGULATOR,
      });
      expect((await world.app.inject({ method: "GET", url: `/media/${collection.mediaSha256}` })).statusCode).toBe(404);
      expect((await unpaid.caller.orders.get({ orderNo: open.orderNo })).status).toBe("expired");
      const late = await verifiedCollector(world.test);
      await expectAppError(
        late.caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: "takedown-late" }),
        "collection.takenDown",
      );

      // Both buyers get back exactly what they paid.
      await world.test.platform.sandboxPayments!.whenIdle();
      const refunded = await db().select().from(refunds);
      expect(refunded.map((refund) => refund.amountFen).sort((x, y) => x - y)).toEqual([990, 1980]);
      expect(refunded.every((refund) => refund.status === "succeeded")).toBe(true);
      const refundNo = (orderNo: string) => `RF${orderNo.slice(2)}`;
      expect(refunded.map((refund) => refund.refundNo).sort()).toEqual(
        [refundNo(first.order.orderNo), refundNo(second.order.orderNo)].sort(),
      );

      // The holder's certificate and the public verification say what happened, from the chain.
      const certificate = await second.buyer.caller.collectibles.certificate({
        collectionId: collection.id,
        tokenId: 3,
      });
      expect(certificate).toMatchObject({ mediaUrl: null, takenDown: { scope: "collection", reasonCode: REGULATOR } });
      const verified = await anonymous.verify.token({ contractAddress: collection.contractAddress!, tokenId: 1 });
      expect(verified).toMatchObject({
        tokenId: 1,
        owner: null,
        takenDown: { scope: "collection", reasonCode: REGULATOR },
      });
      expect(verified.takenDown!.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      const mine = await first.buyer.caller.collectibles.mine();
      expect(mine.every((token) => token.takenDownAt !== null)).toBe(true);

      const trail = (await a.caller.audit.recent({ limit: 50 })).map((entry) => entry.action);
      expect(trail).toEqual(expect.arrayContaining(["compliance.requested", "compliance.approved", "compliance.done"]));
      expect((await a.caller.audit.verify()).ok).toBe(true);
    });

    it("recovers a token to another account after a second operator's approval; a rejected takedown does nothing; a token takedown refunds its buyer", async () => {
      const collection = await world.onSale();
      const holder = await world.paidBuyer(collection.id, 1);
      const other = await world.paidBuyer(collection.id, 1);
      await world.test.platform.mintWorker!.runOnce();
      const target = await verifiedCollector(world.test);
      await world.test.platform.registrySync!.runOnce();
      const targetAddress = (await target.caller.kyc.status()).address!;
      const a = await operator();
      const b = await operator();
      const contract = world.chain.collection(collection.contractAddress!);

      // A rejected takedown: nothing on chain, nothing refunded.
      const takedown = await a.caller.compliance.requestTakedown({
        collectionId: collection.id,
        tokenId: 2,
        reasonCode: REGULATOR,
        reason: "侵权投诉",
      });
      await b.caller.compliance.reject({ actionId: takedown.actionId, reason: "投诉不成立" });
      await expectAppError(b.caller.compliance.approve({ actionId: takedown.actionId }), "compliance.alreadyDecided");
      expect(await contract.ownerOf(2)).toBe(other.address);
      expect(await db().select().from(refunds)).toEqual([]);

      // Recovery: the confirmation's facts, then four eyes.
      const preview = await a.caller.compliance.previewRecovery({
        collectionId: collection.id,
        tokenId: 1,
        toUserId: target.user.id,
      });
      expect(preview).toMatchObject({ tokenId: 1, sameIdentity: false, title: collection.title });
      expect(preview.fromMasked).toMatch(/^\d{3}\*{4}\d{4}$/);
      expect(JSON.stringify(preview)).not.toContain(target.phone);
      await expectAppError(
        a.caller.compliance.requestRecovery({
          collectionId: collection.id,
          tokenId: 1,
          toUserId: holder.buyer.user.id,
          reasonCode: 5,
          reason: "手机遗失",
        }),
        "compliance.sameHolder",
      );
      const recovery = await a.caller.compliance.requestRecovery({
        collectionId: collection.id,
        tokenId: 1,
        toUserId: target.user.id,
        reasonCode: 3,
        reason: "法院裁定",
      });
      expect(await contract.ownerOf(1)).toBe(holder.address);
      await expectAppError(a.caller.compliance.approve({ actionId: recovery.actionId }), "compliance.ownRequest");
      const approved = await b.caller.compliance.approve({ actionId: recovery.actionId });
      expect(approved).toMatchObject({ status: "done", txHash: expect.stringMatching(/^0x/) });
      expect(await contract.ownerOf(1)).toBe(targetAddress);
      expect((await target.caller.collectibles.mine()).map((token) => token.tokenId)).toEqual([1]);
      expect(await holder.buyer.caller.collectibles.mine()).toEqual([]);

      // A token takedown: burned, its buyer's order refunded; the verify page still answers.
      const again = await b.caller.compliance.requestTakedown({
        collectionId: collection.id,
        tokenId: 2,
        reasonCode: REGULATOR,
        reason: "再次投诉",
      });
      await a.caller.compliance.approve({ actionId: again.actionId });
      await expect(contract.ownerOf(2)).rejects.toThrow();
      await world.test.platform.sandboxPayments!.whenIdle();
      const refunded = await db().select().from(refunds);
      expect(refunded).toHaveLength(1);
      expect(refunded[0]).toMatchObject({
        refundNo: `RF${other.order.orderNo.slice(2)}`,
        amountFen: 990,
        status: "succeeded",
      });
      const { caller: anonymous } = await callerFor(world.test.platform);
      expect(await anonymous.verify.token({ contractAddress: collection.contractAddress!, tokenId: 2 })).toMatchObject({
        takenDown: { scope: "token", reasonCode: REGULATOR },
      });
      expect(
        (await anonymous.verify.token({ contractAddress: collection.contractAddress!, tokenId: 1 })).takenDown,
      ).toBeNull();
      expect((await anonymous.catalog.get({ collectionId: collection.id })).takenDown).toBe(false);
    });

    /** An approved, unpublished collection and its issuer staff's caller. */
    async function approvedCollection() {
      const staff = await login(world.test);
      const issuerId = await promote(world.test.platform, staff.user.id, "issuer_staff");
      const { sha256 } = await world.test.platform.catalog.registerMedia(db(), issuerId!, pngBytes());
      const { caller } = await callerFor(world.test.platform, { token: staff.token });
      const now = world.test.clock.now().getTime();
      const draft = await caller.studio.createDraft({
        title: "千里江山图",
        description: "d",
        creator: "王希孟",
        story: "s",
        mediaSha256: sha256,
        editionSize: 10,
        priceFen: 990,
        saleStartsAt: new Date(now + 60_000),
        saleEndsAt: new Date(now + 86_400_000),
        perPersonLimit: 2,
        lockDays: 180,
        regiftDays: 730,
      });
      await caller.studio.submit({ collectionId: draft.id });
      await (await operator()).caller.review.decide({ collectionId: draft.id, approve: true });
      return { staff: caller, issuerId: issuerId!, staffUser: staff.user, collectionId: draft.id };
    }

    it("publishes once when two publications race, and resumes one whose receipt was lost without an orphan contract", async () => {
      const factory = world.chain.factory;
      const { staff, collectionId } = await approvedCollection();
      const count = await factory.collectionCount();
      const results = await Promise.allSettled([
        staff.studio.publish({ collectionId }),
        staff.studio.publish({ collectionId }),
      ]);
      const published = results.filter((result) => result.status === "fulfilled");
      expect(published).toHaveLength(1);
      const loser = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
      expect(["collection.publishing", "collection.wrongState"]).toContain((loser.reason as Error).message);
      expect(await factory.collectionCount()).toBe(count + 1n);
      const row = (published[0] as PromiseFulfilledResult<{ contractAddress: string | null; status: string }>).value;
      expect(row.status).toBe("published");
      expect(row.contractAddress).toBe(await factory.collectionAt(count));

      // The factory call lands but its receipt is lost: the next publication finds that contract, creates none.
      const second = await approvedCollection();
      const p = world.test.platform;
      const lostReceipt = createCatalogService({
        identity: p.identity,
        custody: p.custody,
        store: null as never,
        chain: {
          ...world.chain,
          send: async (...args: Parameters<Chain["send"]>) => {
            await world.chain.send(...args);
            throw new Error("timeout waiting for receipt");
          },
        } as Chain,
        clock: p.clock,
        maxMediaBytes: 1,
        minLockDays: 180,
        minRegiftDays: 180,
        publicOrigin: p.config.env.PUBLIC_ORIGIN,
      });
      await expect(
        lostReceipt.publish(
          db(),
          { id: second.staffUser.id, role: "issuer_staff" },
          second.issuerId,
          second.collectionId,
        ),
      ).rejects.toThrow("collection.chainUnavailable");
      expect(await factory.collectionCount()).toBe(count + 2n);
      const orphan = await factory.collectionAt(count + 1n);
      const resumed = await second.staff.studio.publish({ collectionId: second.collectionId });
      expect(resumed).toMatchObject({ status: "published", contractAddress: orphan });
      expect(await factory.collectionCount()).toBe(count + 2n);
      const trail = await (await operator()).caller.audit.recent({ limit: 20, action: "collection.published" });
      expect(trail[0]!.details).toMatchObject({ contractAddress: orphan, resumed: true });
    });
  });
}
