import { randomBytes } from "node:crypto";

import { type SQL, and, asc, eq, inArray, isNull, lte, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import type { Sealer } from "../../security/crypto.js";
import { lotteries, lotteryDraws, lotteryEntries } from "./tables.js";
import { entriesHashOf, rankEntries, sha256Hex, sortedEntries, winnersHashOf } from "./lottery-proof.js";
import { AppError } from "../../errors.js";
import { appendAudit } from "../audit/service.js";
import type { CatalogService } from "../catalog/service.js";
import type { SessionUser } from "../identity/service.js";
import type { KycService } from "../kyc/service.js";

export { rankEntries } from "./lottery-proof.js";

/**
 * Lottery mode for very popular drops, which nobody can steer:
 *
 * - opening fixes the draw time (the close of registration, before the sale starts) and generates a secret
 *   seed; its SHA-256 is published at once, the seed itself is stored sealed with the platform's secret key
 *   and no procedure shows it before the draw;
 * - the draw happens at the fixed time, by the scheduler (an operator may trigger it only after that time,
 *   with the same result): the winners are a pure function of the seed, the hash of the first chain block
 *   at or after the draw time (its number recorded) and the sorted entry list (its hash recorded);
 * - the result is written once (`lottery_draws` has the lottery as primary key), then the seed, the block
 *   and the entry list are public, and `npm run lottery:verify` recomputes the winners from them alone.
 */

export interface ChainAnchor {
  blockNumber: number;
  blockHash: string;
}

export interface LotteryDependencies {
  catalog: CatalogService;
  kyc: KycService;
  sealer: Sealer;
  clock: () => Date;
  /** The first chain block whose timestamp is at or after `at`, or null while there is none yet. */
  anchorAt: (at: Date) => Promise<ChainAnchor | null>;
}

type LotteryInput = { collectionId: number; registrationEndsAt: Date; winnersCount: number };
type Actor = Pick<SessionUser, "id" | "role"> | null;

const sealContext = (collectionId: number) => `lottery.seed:${collectionId}`;

async function lotteryOf(db: Db, collectionId: number) {
  const [row] = await db.select().from(lotteries).where(eq(lotteries.collectionId, collectionId));
  return row;
}

async function drawOf(db: Db, lotteryId: number) {
  const [row] = await db.select().from(lotteryDraws).where(eq(lotteryDraws.lotteryId, lotteryId));
  return row;
}

/** Opens lottery mode for a published drop: fixes the draw time and publishes the sealed seed's hash. */
async function open(deps: LotteryDependencies, db: Db, operator: NonNullable<Actor>, input: LotteryInput) {
  const { collection } = await deps.catalog.getPublished(db, input.collectionId);
  const now = deps.clock();
  if (input.registrationEndsAt <= now || input.registrationEndsAt > collection.saleStartsAt) {
    throw new AppError("lottery.invalidWindow");
  }
  if (input.winnersCount > collection.editionSize) throw new AppError("lottery.invalidWindow");
  const seed = randomBytes(32).toString("hex");
  try {
    return await db.transaction(async (tx) => {
      const [row] = await tx
        .insert(lotteries)
        .values({
          ...input,
          seedSealed: deps.sealer.seal(seed, sealContext(input.collectionId)),
          seedCommitment: sha256Hex(seed),
        })
        .returning();
      await appendAudit(
        tx,
        {
          actor: { userId: operator.id, role: operator.role },
          action: "lottery.opened",
          subject: { type: "collection", id: input.collectionId },
          details: {
            seedCommitment: row!.seedCommitment,
            winnersCount: input.winnersCount,
            drawAt: input.registrationEndsAt.toISOString(),
          },
        },
        now,
      );
      return row!;
    });
  } catch (error) {
    if (violatedUniqueConstraint(error) === "lotteries_collection_key") throw new AppError("lottery.exists");
    throw error;
  }
}

/** The seed of a lottery (rows opened before sealing kept it in plain text). */
function seedOf(deps: LotteryDependencies, lottery: typeof lotteries.$inferSelect): string {
  return lottery.seedSealed.startsWith("v1.")
    ? deps.sealer.open(lottery.seedSealed, sealContext(lottery.collectionId))
    : lottery.seedSealed;
}

/**
 * Draws the winners, once, at or after the fixed draw time: by the scheduler (`actor` null) or an operator.
 * Whoever triggers it and whenever, the result is the same: the anchor is the first block at or after the time.
 */
async function draw(deps: LotteryDependencies, db: Db, actor: Actor, collectionId: number) {
  const lottery = await lotteryOf(db, collectionId);
  if (lottery === undefined) throw new AppError("lottery.notFound");
  if (deps.clock() < lottery.registrationEndsAt) throw new AppError("lottery.stillOpen");
  if (lottery.revealed || (await drawOf(db, lottery.id)) !== undefined) throw new AppError("lottery.alreadyDrawn");
  const anchor = await deps.anchorAt(lottery.registrationEndsAt);
  if (anchor === null) throw new AppError("lottery.anchorPending");
  const seed = seedOf(deps, lottery);
  const drawnAt = deps.clock();
  try {
    return await db.transaction(async (tx) => {
      const rows = await tx
        .select({ commitment: lotteryEntries.commitment })
        .from(lotteryEntries)
        .where(eq(lotteryEntries.lotteryId, lottery.id));
      const entries = sortedEntries(rows.map((row) => row.commitment));
      const winners = rankEntries(seed, anchor.blockHash, entries, lottery.winnersCount);
      // The result is stored once: a second draw, racing or later, meets the primary key.
      await tx.insert(lotteryDraws).values({
        lotteryId: lottery.id,
        seed,
        blockNumber: anchor.blockNumber,
        blockHash: anchor.blockHash,
        entriesHash: entriesHashOf(entries),
        entryCount: entries.length,
        winnersHash: winnersHashOf(winners),
        drawnBy: actor?.id ?? null,
        drawnAt,
      });
      if (winners.length > 0) {
        await tx
          .update(lotteryEntries)
          .set({ won: true })
          .where(and(eq(lotteryEntries.lotteryId, lottery.id), inArray(lotteryEntries.commitment, winners)));
      }
      await tx
        .update(lotteries)
        .set({ revealed: true, anchor: anchor.blockHash, drawnAt })
        .where(eq(lotteries.id, lottery.id));
      await appendAudit(
        tx,
        {
          actor: actor === null ? { userId: null, role: "system" } : { userId: actor.id, role: actor.role },
          action: "lottery.drawn",
          subject: { type: "collection", id: collectionId },
          details: { entries: entries.length, winners: winners.length, blockNumber: anchor.blockNumber },
        },
        drawnAt,
      );
      return { entries: entries.length, winners: winners.length };
    });
  } catch (error) {
    if (violatedUniqueConstraint(error) !== undefined) throw new AppError("lottery.alreadyDrawn");
    throw error;
  }
}

/**
 * What anyone may check: the commitment and draw time always; after the draw, everything to recompute it.
 * Null when the drop sells first come, first served (so every collection page may ask).
 */
async function result(db: Db, collectionId: number) {
  const lottery = await lotteryOf(db, collectionId);
  if (lottery === undefined) return null;
  const drawn = await drawOf(db, lottery.id);
  const entries = await db
    .select({ commitment: lotteryEntries.commitment, won: lotteryEntries.won })
    .from(lotteryEntries)
    .where(eq(lotteryEntries.lotteryId, lottery.id))
    .orderBy(asc(lotteryEntries.commitment));
  return {
    seedCommitment: lottery.seedCommitment,
    registrationEndsAt: lottery.registrationEndsAt,
    drawAt: lottery.registrationEndsAt,
    winnersCount: lottery.winnersCount,
    drawn: drawn !== undefined,
    seed: drawn?.seed ?? null,
    anchor: drawn?.blockHash ?? null,
    blockNumber: drawn?.blockNumber ?? null,
    blockHash: drawn?.blockHash ?? null,
    entriesHash: drawn?.entriesHash ?? null,
    winnersHash: drawn?.winnersHash ?? null,
    drawnAt: drawn?.drawnAt ?? null,
    entries: drawn === undefined ? [] : entries,
    entryCount: entries.length,
  };
}

export function createLotteryService(deps: LotteryDependencies) {
  return {
    lotteryOf,

    open: (db: Db, operator: NonNullable<Actor>, input: LotteryInput) => open(deps, db, operator, input),

    /** One entry per identity, while registration is open. */
    async register(db: Db, userId: number, collectionId: number) {
      const lottery = await lotteryOf(db, collectionId);
      if (lottery === undefined) throw new AppError("lottery.notFound");
      if (deps.clock() >= lottery.registrationEndsAt) throw new AppError("lottery.closed");
      const commitment = await deps.kyc.commitmentOf(db, userId);
      if (commitment === null) throw new AppError("kyc.notVerified");
      try {
        await db
          .insert(lotteryEntries)
          .values({ lotteryId: lottery.id, commitment, userId, registeredAt: deps.clock() });
      } catch (error) {
        if (violatedUniqueConstraint(error) !== undefined) throw new AppError("lottery.alreadyRegistered");
        throw error;
      }
    },

    draw: (db: Db, actor: Actor, collectionId: number) => draw(deps, db, actor, collectionId),

    /** The scheduler's round: draws every lottery whose time has come (those without a block yet wait). */
    async drawDue(db: Db): Promise<number> {
      const due = await db
        .select({ collectionId: lotteries.collectionId })
        .from(lotteries)
        .leftJoin(lotteryDraws, eq(lotteryDraws.lotteryId, lotteries.id))
        .where(and(lte(lotteries.registrationEndsAt, deps.clock()), isNull(lotteryDraws.lotteryId)));
      let drawn = 0;
      for (const { collectionId } of due) {
        try {
          await draw(deps, db, null, collectionId);
          drawn++;
        } catch (error) {
          const code = error instanceof AppError ? error.code : null;
          if (code !== "lottery.anchorPending" && code !== "lottery.alreadyDrawn") throw error;
        }
      }
      return drawn;
    },

    result: (db: Db, collectionId: number) => result(db, collectionId),

    /** The caller's standing in a drop's lottery, or null when the drop has none. */
    async standing(db: Db, userId: number, collectionId: number) {
      const lottery = await lotteryOf(db, collectionId);
      if (lottery === undefined) return null;
      const commitment = await deps.kyc.commitmentOf(db, userId);
      const [entry] =
        commitment === null
          ? []
          : await db
              .select({ won: lotteryEntries.won })
              .from(lotteryEntries)
              .where(and(eq(lotteryEntries.lotteryId, lottery.id), eq(lotteryEntries.commitment, commitment)));
      return {
        registrationEndsAt: lottery.registrationEndsAt,
        seedCommitment: lottery.seedCommitment,
        drawn: lottery.revealed,
        registered: entry !== undefined,
        won: entry?.won === true,
      };
    },

    /**
     * Whether the identity `commitment` (an SQL expression) may buy in the drop: anybody when it has no
     * lottery, only its winners once drawn, nobody before the draw.
     */
    buyerCondition(collectionId: number, commitment: SQL): SQL {
      return sql`(not exists (select 1 from ${lotteries} where ${lotteries.collectionId} = ${collectionId})
        or exists (select 1 from ${lotteries} join ${lotteryEntries} on ${lotteryEntries.lotteryId} = ${lotteries.id}
                   where ${lotteries.collectionId} = ${collectionId} and ${lotteries.revealed}
                     and ${lotteryEntries.won} and ${lotteryEntries.commitment} = ${commitment}))`;
    },
  };
}

export type LotteryService = ReturnType<typeof createLotteryService>;
