import { createHash } from "node:crypto";

/**
 * The public arithmetic of a lottery draw, the same for the server that draws and for anyone who checks it
 * (`npm run lottery:verify`): nothing here reads the database or a secret.
 *
 * - commitment = SHA-256(seed), published when the lottery opens, before entries close;
 * - the entry list is the entries' identity commitments sorted in code-unit order, one per line; its
 *   SHA-256 is published with the result;
 * - each entry's score is SHA-256(seed ":" block hash ":" entry), the block being the first of the chain
 *   at or after the fixed draw time; the winners are the `count` lowest scores.
 */

export const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** The entry list in its one canonical order. */
export function sortedEntries(entries: readonly string[]): string[] {
  return [...entries].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function entriesHashOf(entries: readonly string[]): string {
  return sha256Hex(sortedEntries(entries).join("\n"));
}

/** The winners: the `count` entries with the lowest SHA-256(seed:anchor:entry), in rank order. */
export function rankEntries(seed: string, anchor: string, entries: readonly string[], count: number): string[] {
  return sortedEntries(entries)
    .map((entry) => ({ entry, score: sha256Hex(`${seed}:${anchor}:${entry}`) }))
    .sort((a, b) => (a.score < b.score ? -1 : a.score > b.score ? 1 : a.entry < b.entry ? -1 : 1))
    .slice(0, count)
    .map((ranked) => ranked.entry);
}

/** The winners' hash recorded with the draw: SHA-256 of the winners in rank order, one per line. */
export function winnersHashOf(winners: readonly string[]): string {
  return sha256Hex(winners.join("\n"));
}

/** What `lottery.result` publishes after the draw (dates may be strings in JSON). */
export interface PublishedLottery {
  seedCommitment: string;
  winnersCount: number;
  drawn: boolean;
  seed: string | null;
  blockNumber: number | null;
  blockHash: string | null;
  entriesHash: string | null;
  winnersHash: string | null;
  entries: readonly { commitment: string; won: boolean }[];
}

export interface LotteryCheck {
  match: boolean;
  problems: string[];
  winners: string[];
}

/** Recomputes a published draw from its public data alone and says whether every published fact holds. */
export function verifyLottery(published: PublishedLottery): LotteryCheck {
  const problems: string[] = [];
  const { seed, blockHash } = published;
  if (!published.drawn || seed === null || blockHash === null) {
    return { match: false, problems: ["the lottery has not been drawn yet"], winners: [] };
  }
  if (sha256Hex(seed) !== published.seedCommitment) problems.push("the seed does not match its commitment");
  const entries = published.entries.map((entry) => entry.commitment);
  if (new Set(entries).size !== entries.length) problems.push("an entry appears twice");
  if (entriesHashOf(entries) !== published.entriesHash) problems.push("the entry list does not match its hash");
  const winners = rankEntries(seed, blockHash, entries, published.winnersCount);
  if (winnersHashOf(winners) !== published.winnersHash) problems.push("the winners do not match their hash");
  const marked = sortedEntries(published.entries.filter((entry) => entry.won).map((entry) => entry.commitment));
  if (JSON.stringify(marked) !== JSON.stringify(sortedEntries(winners))) {
    problems.push("the entries marked as won are not the recomputed winners");
  }
  return { match: problems.length === 0, problems, winners };
}
