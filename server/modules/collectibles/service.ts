import { and, asc, desc, eq, gte, or, sql } from "drizzle-orm";
import { isAddress } from "ethers";
import { RateLimiterRes } from "rate-limiter-flexible";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { collections, issuers, media } from "../catalog/tables.js";
import { gifts, tokens } from "./tables.js";
import { mintBlocksOf } from "../minting/reports.js";
import { AppError } from "../../errors.js";
import { type Limiters, memoryLimiters } from "../../security/rate-limits.js";
import type { IdentityService, SessionUser } from "../identity/service.js";
import { PHONE_PATTERN } from "../identity/service.js";
import type { KycService } from "../kyc/service.js";
import type { WalletService } from "../wallets/service.js";
import { appendAudit } from "../audit/service.js";

/**
 * Collectors' collectibles: the index of minted tokens and their holders,
 * certificates (facts read from the chain), public verification by contract
 * and token id (chain only), and gifts between verified people under the
 * lock — there is no price anywhere in a gift.
 */

export interface CollectiblesDependencies {
  chain: Chain | null;
  identity: IdentityService;
  kyc: KycService;
  wallets: WalletService;
  clock: () => Date;
  /** Gifts one person may send per 24 hours. */
  giftDailyCap: number;
  /**
   * "postgres": one sender's gifts are also serialised across server instances, by a transaction-scoped
   * advisory lock on the sender held while the gift is counted, sent and recorded. (PGlite is one process.)
   */
  databaseKind?: "pglite" | "postgres";
  /** Where the recipient-lookup limit counts (memory by default; Redis shares it across instances). */
  limiters?: Limiters;
}

const ACQUISITION = ["minted", "gifted", "recovered"] as const;

function maskAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** Recipient lookups one sender may make per 10 minutes: enough to find a friend, too few to walk the ids. */
export const RECIPIENT_LOOKUPS_PER_10_MINUTES = 30;

export function createCollectiblesService(deps: CollectiblesDependencies) {
  /** Each sender's gift in progress (the next waits for it). */
  const giftsUnderway = new Map<number, Promise<unknown>>();
  const lookups = (deps.limiters ?? memoryLimiters)({
    keyPrefix: "recipient-lookup",
    points: RECIPIENT_LOOKUPS_PER_10_MINUTES,
    duration: 600,
  });

  function chainOrRefuse(): Chain {
    if (deps.chain === null) throw new AppError("collection.chainUnavailable");
    return deps.chain;
  }

  /** What the chain says about one token; null when the contract is not the platform's or the token does not exist. */
  async function onChain(contractAddress: string, tokenId: number) {
    const chain = chainOrRefuse();
    if (!(await chain.factory.isCollection(contractAddress))) return null;
    const contract = chain.collection(contractAddress);
    if (tokenId < 1 || BigInt(tokenId) >= (await contract.nextTokenId())) return null;
    const [owner, contentHash, unlocksAt, acquisition, maxSupply, name, issuer, locked] = await Promise.all([
      contract.ownerOf(tokenId),
      contract.contentHashOf(tokenId),
      contract.unlocksAt(tokenId),
      contract.acquisitionOf(tokenId),
      contract.maxSupply(),
      contract.name(),
      contract.issuer(),
      contract.locked(tokenId),
    ]);
    return {
      contractAddress,
      tokenId,
      edition: `${tokenId} / ${maxSupply}`,
      name,
      issuerAddress: issuer,
      owner,
      ownerMasked: maskAddress(owner),
      contentHash,
      acquiredBy: ACQUISITION[Number(acquisition[0])] ?? "minted",
      acquiredAt: new Date(Number(acquisition[1]) * 1000),
      unlocksAt: new Date(Number(unlocksAt) * 1000),
      /** By the chain's clock, which decides. */
      locked,
    };
  }

  async function resolveRecipient(db: Db, recipient: string): Promise<SessionUser | null> {
    const entry = recipient.trim();
    if (PHONE_PATTERN.test(entry)) return deps.identity.findAccountByPhone(db, entry);
    if (/^\d{1,15}$/.test(entry)) return deps.identity.findAccountById(db, Number(entry));
    return null;
  }

  /** The masked name of a gift's recipient, for the sender to confirm who they mean. */
  async function lookupRecipient(db: Db, sender: SessionUser, recipient: string) {
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
  }

  /** The gift itself; `gift` runs one per sender at a time. */
  async function sendGift(
    db: Db,
    sender: SessionUser,
    input: { collectionId: number; tokenId: number; recipient: string; confirmNameMasked: string },
  ) {
    const chain = chainOrRefuse();
    if (await deps.identity.isGiftingSuspended(db, sender.id)) throw new AppError("gift.suspended");
    const since = new Date(deps.clock().getTime() - 86_400_000);
    const [sent] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(gifts)
      .where(and(eq(gifts.fromUserId, sender.id), gte(gifts.at, since)));
    if ((sent?.n ?? 0) >= deps.giftDailyCap) throw new AppError("gift.dailyCap", { cap: deps.giftDailyCap });
    const target = await lookupRecipient(db, sender, input.recipient);
    if (target.nameMasked !== input.confirmNameMasked) throw new AppError("gift.nameNotConfirmed");
    const [token] = await db
      .select({ token: tokens, contractAddress: collections.contractAddress })
      .from(tokens)
      .innerJoin(collections, eq(collections.id, tokens.collectionId))
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

  return {
    /** Called in the mint's transaction: the tokens of each job now belong to its buyer. */
    async recordMinted(
      tx: Db,
      minted: { collectionId: number; orderId: number; ownerUserId: number; firstTokenId: number; quantity: number }[],
      txHash: string | null,
    ) {
      const at = deps.clock();
      const rows = minted.flatMap((job) =>
        Array.from({ length: job.quantity }, (_, i) => ({
          collectionId: job.collectionId,
          tokenId: job.firstTokenId + i,
          ownerUserId: job.ownerUserId,
          orderId: job.orderId,
          mintTxHash: txHash,
          mintedAt: at,
          acquiredAt: at,
        })),
      );
      if (rows.length > 0) await tx.insert(tokens).values(rows).onConflictDoNothing();
    },

    async mine(db: Db, userId: number) {
      return db
        .select({
          collectionId: tokens.collectionId,
          tokenId: tokens.tokenId,
          title: collections.title,
          issuerName: issuers.name,
          editionSize: collections.editionSize,
          mediaSha256: collections.mediaSha256,
          mediaType: media.mimeType,
          contractAddress: collections.contractAddress,
          acquiredAt: tokens.acquiredAt,
        })
        .from(tokens)
        .innerJoin(collections, eq(collections.id, tokens.collectionId))
        .innerJoin(issuers, eq(issuers.id, collections.issuerId))
        .innerJoin(media, eq(media.sha256, collections.mediaSha256))
        .where(eq(tokens.ownerUserId, userId))
        .orderBy(desc(tokens.acquiredAt));
    },

    /** The certificate of a token the caller holds: the platform's records plus the chain's facts. */
    async certificate(db: Db, userId: number, collectionId: number, tokenId: number) {
      const [row] = await db
        .select({ token: tokens, collection: collections, issuerName: issuers.name })
        .from(tokens)
        .innerJoin(collections, eq(collections.id, tokens.collectionId))
        .innerJoin(issuers, eq(issuers.id, collections.issuerId))
        .where(and(eq(tokens.collectionId, collectionId), eq(tokens.tokenId, tokenId), eq(tokens.ownerUserId, userId)));
      // Someone else's collectible is "not found": its holder is not disclosed.
      if (row === undefined) throw new AppError("collectible.notFound");
      const facts = await onChain(row.collection.contractAddress!, tokenId);
      return {
        title: row.collection.title,
        issuerName: row.issuerName,
        creator: row.collection.creator,
        mintTxHash: row.token.mintTxHash,
        mediaUrl: `/media/${row.collection.mediaSha256}`,
        ...facts!,
      };
    },

    /** Anyone: what the chain says about a token, and whether it is one of the platform's. */
    async verify(contractAddress: string, tokenId: number) {
      if (!isAddress(contractAddress)) throw new AppError("collectible.notFound");
      const facts = await onChain(contractAddress, tokenId);
      if (facts === null) throw new AppError("collectible.notFound");
      return facts;
    },

    lookupRecipient,

    /**
     * Gives a collectible to another verified collector. The chain enforces the
     * lock and real-name rules; this refuses first, with the unlock date, so the
     * collector learns why before anything is sent.
     */
    async gift(
      db: Db,
      sender: SessionUser,
      input: { collectionId: number; tokenId: number; recipient: string; confirmNameMasked: string },
    ) {
      // One gift of a person at a time, so simultaneous gifts cannot all pass the daily cap before any is counted:
      // queued here within this instance, and locked in the database against the other instances.
      const previous = giftsUnderway.get(sender.id) ?? Promise.resolve();
      const send = () =>
        deps.databaseKind !== "postgres"
          ? sendGift(db, sender, input)
          : db.transaction(async (tx) => {
              await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`gift-sender:${sender.id}`}, 0))`);
              return sendGift(db, sender, input);
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

    /** The tokens an order became, with the mint transaction and its block (the minting module's record). */
    async tokensOfOrder(db: Db, orderId: number) {
      const rows = await db
        .select({
          tokenId: tokens.tokenId,
          contractAddress: collections.contractAddress,
          txHash: tokens.mintTxHash,
        })
        .from(tokens)
        .innerJoin(collections, eq(collections.id, tokens.collectionId))
        .where(eq(tokens.orderId, orderId))
        .orderBy(asc(tokens.tokenId));
      const blocks = await mintBlocksOf(
        db,
        rows.flatMap((row) => (row.txHash === null ? [] : [row.txHash])),
      );
      return rows.map((row) => ({
        ...row,
        blockNumber: row.txHash === null ? null : (blocks.get(row.txHash) ?? null),
      }));
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

export type CollectiblesService = ReturnType<typeof createCollectiblesService>;
