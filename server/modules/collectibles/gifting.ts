import { and, desc, eq, gte, or, sql } from "drizzle-orm";
import { RateLimiterRes } from "rate-limiter-flexible";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { memoryLimiters } from "../../security/rate-limits.js";
import { appendAudit } from "../audit/service.js";
import { collectionContracts } from "../catalog/sql.js";
import { PHONE_PATTERN, type SessionUser } from "../identity/service.js";
import { type CollectiblesDependencies, chainOrRefuse } from "./context.js";
import { gifts, tokens } from "./tables.js";

/** Gifts between verified people under the lock — there is no price anywhere in a gift. */

/** Recipient lookups one sender may make per 10 minutes: enough to find a friend, too few to walk the ids. */
export const RECIPIENT_LOOKUPS_PER_10_MINUTES = 30;

type GiftInput = { collectionId: number; tokenId: number; recipient: string; confirmNameMasked: string };
type LookupRecipient = ReturnType<typeof createRecipientLookup>;

/** Finds a gift's recipient by phone number or collector id, limited per sender. */
export function createRecipientLookup(deps: Pick<CollectiblesDependencies, "identity" | "kyc" | "limiters">) {
  const lookups = (deps.limiters ?? memoryLimiters)({
    keyPrefix: "recipient-lookup",
    points: RECIPIENT_LOOKUPS_PER_10_MINUTES,
    duration: 600,
  });

  async function resolveRecipient(db: Db, recipient: string): Promise<SessionUser | null> {
    const entry = recipient.trim();
    if (PHONE_PATTERN.test(entry)) return deps.identity.findAccountByPhone(db, entry);
    if (/^\d{1,15}$/.test(entry)) return deps.identity.findAccountById(db, Number(entry));
    return null;
  }

  /** The masked name of a gift's recipient, for the sender to confirm who they mean. */
  return async function lookupRecipient(db: Db, sender: SessionUser, recipient: string) {
    try {
      await lookups.consume(String(sender.id));
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        throw new AppError("auth.rateLimited", { retryAfterSeconds: Math.ceil(error.msBeforeNext / 1000) });
      }
      throw error;
    }
    const account = await resolveRecipient(db, recipient);
    if (account === null || account.role !== "collector" || account.id === sender.id) {
      throw new AppError("gift.recipientNotFound");
    }
    const status = await deps.kyc.status(db, account.id);
    if (status.state !== "verified" || !status.onChain) throw new AppError("gift.recipientNotVerified");
    return { recipientId: account.id, nameMasked: status.nameMasked!, phoneMasked: account.phoneMasked };
  };
}

/** Refuses a sender who is suspended or has reached the daily cap. */
async function checkSender(deps: CollectiblesDependencies, db: Db, sender: SessionUser) {
  if (await deps.identity.isGiftingSuspended(db, sender.id)) throw new AppError("gift.suspended");
  const since = new Date(deps.clock().getTime() - 86_400_000);
  const [sent] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(gifts)
    .where(and(eq(gifts.fromUserId, sender.id), gte(gifts.at, since)));
  if ((sent?.n ?? 0) >= deps.giftDailyCap) throw new AppError("gift.dailyCap", { cap: deps.giftDailyCap });
}

/** The gift itself; `gift` runs one per sender at a time. */
async function sendGift(
  deps: CollectiblesDependencies,
  lookupRecipient: LookupRecipient,
  db: Db,
  sender: SessionUser,
  input: GiftInput,
) {
  const chain = chainOrRefuse(deps.chain);
  await checkSender(deps, db, sender);
  const target = await lookupRecipient(db, sender, input.recipient);
  if (target.nameMasked !== input.confirmNameMasked) throw new AppError("gift.nameNotConfirmed");
  const [token] = await db
    .select({ token: tokens, contractAddress: collectionContracts.contractAddress })
    .from(tokens)
    .innerJoin(collectionContracts, eq(collectionContracts.collectionId, tokens.collectionId))
    .where(
      and(
        eq(tokens.collectionId, input.collectionId),
        eq(tokens.tokenId, input.tokenId),
        eq(tokens.ownerUserId, sender.id),
      ),
    );
  if (token === undefined) throw new AppError("collectible.notFound");
  const [from, to] = await Promise.all([
    deps.wallets.addressOf(db, sender.id),
    deps.wallets.addressOf(db, target.recipientId),
  ]);
  const contract = chain.collection(token.contractAddress!);
  if (!(await contract.canTransfer(from!, to!, input.tokenId))) {
    const unlocksAt = new Date(Number(await contract.unlocksAt(input.tokenId)) * 1000);
    if (unlocksAt > deps.clock()) throw new AppError("gift.locked", { unlocksAt: unlocksAt.toISOString() });
    throw new AppError("gift.refusedByChain");
  }
  const receipt = await chain.sendAsCollector(sender.id, ({ collection }, overrides) =>
    collection(token.contractAddress!).transferFrom(from!, to!, input.tokenId, overrides),
  );
  const at = deps.clock();
  await db.transaction(async (tx) => {
    await tx
      .update(tokens)
      .set({ ownerUserId: target.recipientId, acquiredAt: at })
      .where(and(eq(tokens.collectionId, input.collectionId), eq(tokens.tokenId, input.tokenId)));
    await tx.insert(gifts).values({
      collectionId: input.collectionId,
      tokenId: input.tokenId,
      fromUserId: sender.id,
      toUserId: target.recipientId,
      txHash: receipt.hash,
      at,
    });
  });
  return { txHash: receipt.hash, recipientNameMasked: target.nameMasked };
}

export function createGifting(deps: CollectiblesDependencies, lookupRecipient: LookupRecipient) {
  /** Each sender's gift in progress (the next waits for it). */
  const giftsUnderway = new Map<number, Promise<unknown>>();

  return {
    /**
     * Gives a collectible to another verified collector. The chain enforces the
     * lock and real-name rules; this refuses first, with the unlock date, so the
     * collector learns why before anything is sent.
     */
    async gift(db: Db, sender: SessionUser, input: GiftInput) {
      // One gift of a person at a time, so simultaneous gifts cannot all pass the daily cap before any is counted:
      // queued here within this instance, and locked in the database against the other instances.
      const previous = giftsUnderway.get(sender.id) ?? Promise.resolve();
      const send = () =>
        deps.databaseKind !== "postgres"
          ? sendGift(deps, lookupRecipient, db, sender, input)
          : db.transaction(async (tx) => {
              await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`gift-sender:${sender.id}`}, 0))`);
              return sendGift(deps, lookupRecipient, db, sender, input);
            });
      const mine = previous.catch(() => undefined).then(send);
      giftsUnderway.set(sender.id, mine);
      try {
        return await mine;
      } finally {
        if (giftsUnderway.get(sender.id) === mine) giftsUnderway.delete(sender.id);
      }
    },

    /** An operator suspends (or restores) an account's gifting; audited. */
    async suspendGifting(
      db: Db,
      operator: Pick<SessionUser, "id" | "role">,
      userId: number,
      suspended: boolean,
      reason: string,
    ) {
      await db.transaction(async (tx) => {
        if (!(await deps.identity.setGiftingSuspended(tx, userId, suspended)))
          throw new AppError("gift.recipientNotFound");
        await appendAudit(
          tx,
          {
            actor: { userId: operator.id, role: operator.role },
            action: suspended ? "gifting.suspended" : "gifting.restored",
            subject: { type: "user", id: userId },
            details: { reason },
          },
          deps.clock(),
        );
      });
    },

    async giftHistory(db: Db, userId: number) {
      return db
        .select()
        .from(gifts)
        .where(or(eq(gifts.fromUserId, userId), eq(gifts.toUserId, userId)))
        .orderBy(desc(gifts.at));
    },
  };
}
