import { eq } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { wallets } from "./tables.js";
import type { KeyCustody } from "./custody.js";

/**
 * Custodial addresses: every verified collector gets one address, derived
 * on its own BIP-44 path (index = account id). The table records which
 * address belongs to whom; keys stay in custody.
 */
export interface WalletService {
  /** The account's address, created on first use. Idempotent. */
  ensureWallet(db: Db, userId: number): Promise<string>;
  addressOf(db: Db, userId: number): Promise<string | null>;
}

export function createWalletService(custody: KeyCustody): WalletService {
  return {
    async ensureWallet(db, userId) {
      const address = custody.collectorAddress(userId);
      await db.insert(wallets).values({ userId, address, derivationIndex: userId }).onConflictDoNothing();
      return address;
    },
    async addressOf(db, userId) {
      const [row] = await db.select({ address: wallets.address }).from(wallets).where(eq(wallets.userId, userId));
      return row?.address ?? null;
    },
  };
}
