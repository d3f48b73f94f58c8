import { createHash, randomBytes } from "node:crypto";

import { type SQL, and, asc, eq, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { lotteries, lotteryEntries } from "./tables.js";
import { AppError } from "../../errors.js";
import { appendAudit } from "../audit/service.js";
import type { CatalogService } from "../catalog/service.js";
import type { SessionUser } from "../identity/service.js";
import type { KycService } from "../kyc/service.js";

/**
 * Lottery mode for very popular drops. The seed's SHA-256 is published when
 * the lottery opens; registration is one entry per identity; at the draw the
 * seed is revealed and mixed with an anchor nobody could know before
 * registration closed (the chain's latest block hash), and entries are ranked
 * by SHA-256(seed:anchor:entry). Anyone can recompute the winners with
 * {@link rankEntries} from what `lottery.result` publishes.
 */

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** The winners: the `count` entries with the lowest SHA-256(seed:anchor:entry), in rank order. */
export function rankEntries(seed: string, anchor: string, entries: readonly string[], count: number): string[] {
  return entries
    .map((entry) => ({ entry, score: sha256(`${seed}:${anchor}:${entry}`) }))
    .sort((a, b) => (a.score < b.score ? -1 : a.score > b.score ? 1 : 0))
    .slice(0, count)
    .map((ranked) => ranked.entry);
}

export interface LotteryDependencies {
  catalog: CatalogService;
  kyc: KycService;
  clock: () => Date;
  /** A value unknowable before now: the chain's latest block hash. */
  anchor: () => Promise<string>;
}

type LotteryInput = { collectionId: number; registrationEndsAt: Date; winnersCount: number };

async function lotteryOf(db: Db, collectionId: number) {
  const [row] = await db.select().from(lotteries).where(eq(lotteries.collectionId, collectionId));
  return row;
}

/** Opens lottery mode for a published drop, publishing the seed's hash. */
async function open(
  deps: LotteryDependencies,
  db: Db,
  operator: Pick<SessionUser, "id" | "role">,
  input: LotteryInput,
) {
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
        .values({ ...input, seed, seedCommitment: sha256(seed) })
        .returning();
      await appendAudit(
        tx,
        {
          actor: { userId: operator.id, role: operator.role },
          action: "lottery.opened",
          subject: { type: "collection", id: input.collectionId },
          details: { seedCommitment: row!.seedCommitment, winnersCount: input.winnersCount },
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

/** Draws the winners once registration has closed, revealing the seed and the anchor. */
async function draw(
  deps: LotteryDependencies,
  db: Db,
  operator: Pick<SessionUser, "id" | "role">,
  collectionId: number,
) {
  const lottery = await lotteryOf(db, collectionId);
  if (lottery === undefined) throw new AppError("lottery.notFound");
  if (deps.clock() < lottery.registrationEndsAt) throw new AppError("lottery.stillOpen");
  if (lottery.revealed) throw new AppError("lottery.alreadyDrawn");
  const anchor = await deps.anchor();
  return db.transaction(async (tx) => {
    const entries = await tx
      .select({ commitment: lotteryEntries.commitment })
      .from(lotteryEntries)
      .where(eq(lotteryEntries.lotteryId, lottery.id));
    const winners = rankEntries(
      lottery.seed,
      anchor,
      entries.map((e) => e.commitment),
      lottery.winnersCount,
    );
    for (const commitment of winners) {
      await tx
        .update(lotteryEntries)
        .set({ won: true })
        .where(and(eq(lotteryEntries.lotteryId, lottery.id), eq(lotteryEntries.commitment, commitment)));
    }
    const [updated] = await tx
      .update(lotteries)
      .set({ revealed: true, anchor, drawnAt: deps.clock() })
      .where(and(eq(lotteries.id, lottery.id), eq(lotteries.revealed, false)))
      .returning();
    if (updated === undefined) throw new AppError("lottery.alreadyDrawn");
    await appendAudit(
      tx,
      {
        actor: { userId: operator.id, role: operator.role },
        action: "lottery.drawn",
        subject: { type: "collection", id: collectionId },
        details: { entries: entries.length, winners: winners.length, anchor },
      },
      deps.clock(),
    );
    return { entries: entries.length, winners: winners.length };
  });
}

export function createLotteryService(deps: LotteryDependencies) {
  return {
    lotteryOf,

    open: (db: Db, operator: Pick<SessionUser, "id" | "role">, input: LotteryInput) => open(deps, db, operator, input),

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

    draw: (db: Db, operator: Pick<SessionUser, "id" | "role">, collectionId: number) =>
      draw(deps, db, operator, collectionId),

    /** What anyone may check: the commitment always; after the draw, the seed, the anchor and every entry. */
    async result(db: Db, collectionId: number) {
      const lottery = await lotteryOf(db, collectionId);
      if (lottery === undefined) throw new AppError("lottery.notFound");
      const entries = await db
        .select({ commitment: lotteryEntries.commitment, won: lotteryEntries.won })
        .from(lotteryEntries)
        .where(eq(lotteryEntries.lotteryId, lottery.id))
        .orderBy(asc(lotteryEntries.registeredAt), asc(lotteryEntries.commitment));
      return {
        seedCommitment: lottery.seedCommitment,
        registrationEndsAt: lottery.registrationEndsAt,
        winnersCount: lottery.winnersCount,
        drawn: lottery.revealed,
        seed: lottery.revealed ? lottery.seed : null,
        anchor: lottery.anchor,
        entries: lottery.revealed ? entries : [],
        entryCount: entries.length,
      };
    },

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
