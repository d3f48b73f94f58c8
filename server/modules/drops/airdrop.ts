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
import { type Limiters, consumeOrRateLimited, memoryLimiters } from "../../security/rate-limits.js";

/**
 * Airdrops: an issuer gives editions of a published collection to a list of
 * collectors (phone numbers or collector ids). The list is checked first and
 * every problem is reported; an airdrop runs only on a clean list. Editions
 * come out of the collection's supply like a sale (free orders, already
 * paid), and each becomes a mint job.
 */

/**
 * Why an entry cannot take part. `cannotReceive` covers no such account, a closed one, a staff or operator
 * account and an unverified one alike: the check must not tell an issuer who holds which role on the platform.
 */
export type AirdropProblem = "malformed" | "cannotReceive" | "duplicate";

export interface AirdropDependencies {
  catalog: CatalogService;
  identity: IdentityService;
  kyc: KycService;
  wallets: WalletService;
  minting: MintingService;
  clock: () => Date;
  /** Where the check limits count (memory by default; Redis shares them across instances). */
  limiters?: Limiters;
  /** List checks (and airdrops) one staff account may run per hour. */
  checksPerHour?: number;
  /** Entries that cannot receive one issuer may be told of per day: a list of guesses runs out of answers. */
  refusedEntriesPerDay?: number;
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
    if (account === null || account.status !== "active" || account.role !== "collector")
      problems.push({ entry, problem: "cannotReceive" });
    else {
      // Verification implies an adult; frozen people are refused again by the chain at mint time.
      const commitment = (await deps.kyc.verifiedCommitments(db, [account.id])).get(account.id) ?? null;
      if (commitment === null) problems.push({ entry, problem: "cannotReceive" });
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

  const limiters = deps.limiters ?? memoryLimiters;
  const checks = limiters({ keyPrefix: "airdrop-check", points: deps.checksPerHour ?? 30, duration: 3600 });
  const refusals = limiters({
    keyPrefix: "airdrop-refused",
    points: deps.refusedEntriesPerDay ?? 200,
    duration: 86_400,
  });

  /**
   * A list checked within the limits: so many checks per staff account per hour, and so many entries that
   * cannot receive per issuer per day (a real list has few; a list of guessed numbers has mostly those), past
   * which the list is refused without an answer.
   */
  async function limitedCheck(db: Db, userId: number, issuerId: number, entries: readonly string[]) {
    await consumeOrRateLimited(checks, `user:${userId}`);
    const checked = await checkList(deps, db, entries);
    const refused = checked.report.problems.filter((p) => p.problem === "cannotReceive").length;
    if (refused > 0) await consumeOrRateLimited(refusals, `issuer:${issuerId}`, refused);
    return checked;
  }

  return {
    async check(db: Db, userId: number, issuerId: number, collectionId: number, entries: readonly string[]) {
      await publishedOfIssuer(deps, db, issuerId, collectionId);
      return (await limitedCheck(db, userId, issuerId, entries)).report;
    },

    async execute(
      db: Db,
      actor: Pick<SessionUser, "id" | "role">,
      issuerId: number,
      collectionId: number,
      entries: readonly string[],
    ) {
      await publishedOfIssuer(deps, db, issuerId, collectionId);
      const { ready, report } = await limitedCheck(db, actor.id, issuerId, entries);
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
