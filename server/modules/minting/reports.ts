import { inArray } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { mintBatches } from "./tables.js";

/** The block each landed mint transaction was included in, by transaction hash (unknown hashes are absent). */
export async function mintBlocksOf(db: Db, txHashes: readonly string[]): Promise<Map<string, number | null>> {
  const wanted = [...new Set(txHashes)];
  if (wanted.length === 0) return new Map();
  const rows = await db
    .select({ txHash: mintBatches.txHash, blockNumber: mintBatches.blockNumber })
    .from(mintBatches)
    .where(inArray(mintBatches.txHash, wanted));
  return new Map(rows.flatMap((row) => (row.txHash === null ? [] : [[row.txHash, row.blockNumber] as const])));
}
