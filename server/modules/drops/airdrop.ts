import { and, eq } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { airdrops } from "./tables.js";
import { AppError } from "../../errors.js";
import { appendAudit } from "../audit/service.js";
import type { CatalogService } from "../catalog/service.js";
import { PHONE_PATTERN, type IdentityService, type SessionUser, maskPhone } from "../identity/service.js";
import type { KycService } from "../kyc/service.js";
import type { MintingService } from "../minting/service.js";
import { createOrderMachine, newOrderNo } from "./orders.js";
import { ordersOfAirdrop } from "./sql.js";
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

type Recipient = { entry: string; userId: number; phoneMasked: string; commitment: string };

/** Checks a list: each entry a known, active, verified collector, each person once; problems reported masked. */
async function checkList(deps: AirdropDependencies, db: Db, entries: readonly string[]) {
  const ready: Recipient[] = [];
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
      const commitment = (await deps.kyc.verifiedCommitments(db, [account.id])).get(account.id) ?? null;
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

async function publishedOfIssuer(deps: AirdropDependencies, db: Db, issuerId: number, collectionId: number) {
  const collection = await deps.catalog.getForIssuer(db, issuerId, collectionId);
  if (collection.status !== "published") throw new AppError("collection.wrongState", { status: collection.status });
  return collection;
}

export function createAirdropService(deps: AirdropDependencies) {
  const machine = createOrderMachine(deps.clock);

  /** The airdrop itself, in one transaction: free orders placed paid (editions sold at once), each a mint job. */
  async function distribute(
    tx: Db,
    actor: Pick<SessionUser, "id" | "role">,
    issuerId: number,
    collectionId: number,
    recipients: readonly (Recipient & { address: string | null })[],
    now: Date,
  ) {
    const [airdrop] = await tx
      .insert(airdrops)
      .values({ collectionId, issuerId, createdBy: actor.id, recipients: recipients.length })
      .returning();
    const place = recipients.map((recipient) => ({
      orderNo: newOrderNo(now),
      userId: recipient.userId,
      collectionId,
      commitment: recipient.commitment,
      quantity: 1,
      unitPriceFen: 0,
      amountFen: 0,
      paidAt: now,
      idempotencyKey: `airdrop-${airdrop!.id}`,
      airdropId: airdrop!.id,
      expiresAt: now,
      createdAt: now,
      updatedAt: now,
    }));
    const placed = await machine.transition(tx, { place }, "paid", "airdrop");
    // One order per person (the list has no duplicates), so each order is its recipient's.
    const addressOf = new Map(recipients.map((recipient) => [recipient.userId, recipient.address]));
    for (const order of placed) {
      await deps.minting.enqueue(tx, {
        orderId: order.id,
        collectionId,
        recipient: addressOf.get(order.userId)!,
        quantity: 1,
      });
    }
    await appendAudit(
      tx,
      {
        actor: { userId: actor.id, role: actor.role },
        action: "airdrop.executed",
        subject: { type: "collection", id: collectionId },
        details: { airdropId: airdrop!.id, recipients: recipients.length },
      },
      now,
    );
    return airdrop!.id;
  }

  return {
    async check(db: Db, issuerId: number, collectionId: number, entries: readonly string[]) {
      await publishedOfIssuer(deps, db, issuerId, collectionId);
      return (await checkList(deps, db, entries)).report;
    },

    async execute(
      db: Db,
      actor: Pick<SessionUser, "id" | "role">,
      issuerId: number,
      collectionId: number,
      entries: readonly string[],
    ) {
      await publishedOfIssuer(deps, db, issuerId, collectionId);
      const { ready, report } = await checkList(deps, db, entries);
      if (report.problems.length > 0)
        throw new AppError("airdrop.listHasProblems", { problems: report.problems.length });
      if (ready.length === 0) throw new AppError("airdrop.empty");
      const recipients = await Promise.all(
        ready.map(async (r) => ({ ...r, address: await deps.wallets.addressOf(db, r.userId) })),
      );
      const now = deps.clock();
      const airdropId = await db.transaction((tx) => distribute(tx, actor, issuerId, collectionId, recipients, now));
      return { airdropId, recipients: ready.length, report };
    },

    async progress(db: Db, issuerId: number, airdropId: number) {
      const [airdrop] = await db
        .select()
        .from(airdrops)
        .where(and(eq(airdrops.id, airdropId), eq(airdrops.issuerId, issuerId)));
      if (airdrop === undefined) throw new AppError("airdrop.notFound");
      return {
        airdropId,
        recipients: airdrop.recipients,
        jobs: await deps.minting.progressOf(db, ordersOfAirdrop(airdropId)),
      };
    },
  };
}

export type AirdropService = ReturnType<typeof createAirdropService>;
