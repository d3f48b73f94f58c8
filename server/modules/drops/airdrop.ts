import { and, eq, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { airdrops, editionSlots, orderEvents, orders } from "./tables.js";
import { AppError } from "../../errors.js";
import { appendAudit } from "../audit/service.js";
import type { CatalogService } from "../catalog/service.js";
import { PHONE_PATTERN, type IdentityService, type SessionUser, maskPhone } from "../identity/service.js";
import type { KycService } from "../kyc/service.js";
import type { MintingService } from "../minting/service.js";
import { newOrderNo } from "./service.js";
import type { WalletService } from "../wallets/service.js";

/**
 * Airdrops: an issuer gives editions of a published collection to a list of
 * collectors (phone numbers or collector ids). The list is checked first and
 * every problem is reported; an airdrop runs only on a clean list. Editions
 * come out of the collection's supply like a sale (free orders, already
 * paid), and each becomes a mint job.
 */

export type AirdropProblem = "malformed" | "unknown" | "notCollector" | "notVerified" | "duplicate";

export interface AirdropDependencies {
  catalog: CatalogService;
  identity: IdentityService;
  kyc: KycService;
  wallets: WalletService;
  minting: MintingService;
  clock: () => Date;
}

export function createAirdropService(deps: AirdropDependencies) {
  async function check(db: Db, entries: readonly string[]) {
    const ready: { entry: string; userId: number; phoneMasked: string; commitment: string }[] = [];
    const problems: { entry: string; problem: AirdropProblem }[] = [];
    const seen = new Set<string>();
    for (const raw of entries) {
      const entry = raw.trim();
      let account: SessionUser | null;
      if (PHONE_PATTERN.test(entry)) account = await deps.identity.findAccountByPhone(db, entry);
      else if (/^\d{1,15}$/.test(entry)) account = await deps.identity.findAccountById(db, Number(entry));
      else {
        problems.push({ entry, problem: "malformed" });
        continue;
      }
      if (account === null || account.status !== "active") problems.push({ entry, problem: "unknown" });
      else if (account.role !== "collector") problems.push({ entry, problem: "notCollector" });
      else {
        // Verification implies an adult; frozen people are refused again by the chain at mint time.
        const commitment = (await deps.kyc.isVerified(db, account.id))
          ? await deps.kyc.commitmentOf(db, account.id)
          : null;
        if (commitment === null) problems.push({ entry, problem: "notVerified" });
        else if (seen.has(commitment)) problems.push({ entry, problem: "duplicate" });
        else {
          seen.add(commitment);
          ready.push({ entry, userId: account.id, phoneMasked: account.phoneMasked, commitment });
        }
      }
    }
    // The report never echoes a phone number back: entries are shown masked.
    const mask = (entry: string) => (PHONE_PATTERN.test(entry) ? maskPhone(entry) : entry);
    return {
      ready,
      report: {
        ready: ready.map((r) => ({ entry: mask(r.entry), phoneMasked: r.phoneMasked })),
        problems: problems.map((p) => ({ entry: mask(p.entry), problem: p.problem })),
      },
    };
  }

  return {
    async check(db: Db, issuerId: number, collectionId: number, entries: readonly string[]) {
      const collection = await deps.catalog.getForIssuer(db, issuerId, collectionId);
      if (collection.status !== "published") throw new AppError("collection.wrongState", { status: collection.status });
      return (await check(db, entries)).report;
    },

    async execute(
      db: Db,
      actor: Pick<SessionUser, "id" | "role">,
      issuerId: number,
      collectionId: number,
      entries: readonly string[],
    ) {
      const collection = await deps.catalog.getForIssuer(db, issuerId, collectionId);
      if (collection.status !== "published") throw new AppError("collection.wrongState", { status: collection.status });
      const { ready, report } = await check(db, entries);
      if (report.problems.length > 0)
        throw new AppError("airdrop.listHasProblems", { problems: report.problems.length });
      if (ready.length === 0) throw new AppError("airdrop.empty");
      const recipients = await Promise.all(
        ready.map(async (r) => ({ ...r, address: await deps.wallets.addressOf(db, r.userId) })),
      );
      const now = deps.clock();

      return db.transaction(async (tx) => {
        const [airdrop] = await tx
          .insert(airdrops)
          .values({ collectionId, issuerId, createdBy: actor.id, recipients: ready.length })
          .returning();
        const claimed = (await tx.execute(sql`
          select edition_no from edition_slots
          where collection_id = ${collectionId} and status = 'available'
          order by edition_no
          limit ${ready.length}
          for update skip locked`)) as unknown as { rows: { edition_no: number }[] };
        if (claimed.rows.length < ready.length) throw new AppError("drop.soldOut");
        for (const [i, recipient] of recipients.entries()) {
          const [order] = await tx
            .insert(orders)
            .values({
              orderNo: newOrderNo(now),
              userId: recipient.userId,
              collectionId,
              commitment: recipient.commitment,
              quantity: 1,
              unitPriceFen: 0,
              amountFen: 0,
              status: "paid",
              paidAt: now,
              idempotencyKey: `airdrop-${airdrop!.id}`,
              airdropId: airdrop!.id,
              expiresAt: now,
              createdAt: now,
              updatedAt: now,
            })
            .returning();
          await tx
            .update(editionSlots)
            .set({ status: "sold", orderId: order!.id })
            .where(
              and(eq(editionSlots.collectionId, collectionId), eq(editionSlots.editionNo, claimed.rows[i]!.edition_no)),
            );
          await tx
            .insert(orderEvents)
            .values({ orderId: order!.id, fromStatus: null, toStatus: "paid", reason: "airdrop", at: now });
          await deps.minting.enqueue(tx, {
            orderId: order!.id,
            collectionId,
            recipient: recipient.address!,
            quantity: 1,
          });
        }
        await appendAudit(
          tx,
          {
            actor: { userId: actor.id, role: actor.role },
            action: "airdrop.executed",
            subject: { type: "collection", id: collectionId },
            details: { airdropId: airdrop!.id, recipients: ready.length },
          },
          now,
        );
        return { airdropId: airdrop!.id, recipients: ready.length, report };
      });
    },

    async progress(db: Db, issuerId: number, airdropId: number) {
      const [airdrop] = await db
        .select()
        .from(airdrops)
        .where(and(eq(airdrops.id, airdropId), eq(airdrops.issuerId, issuerId)));
      if (airdrop === undefined) throw new AppError("airdrop.notFound");
      return { airdropId, recipients: airdrop.recipients, jobs: await deps.minting.progressOfAirdrop(db, airdropId) };
    },
  };
}

export type AirdropService = ReturnType<typeof createAirdropService>;
