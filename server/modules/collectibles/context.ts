import type { Chain } from "../../chain/client.js";
import { AppError } from "../../errors.js";
import type { Limiters } from "../../security/rate-limits.js";
import type { IdentityService } from "../identity/service.js";
import type { KycService } from "../kyc/service.js";
import type { WalletService } from "../wallets/service.js";

/** What the collectibles module's parts share. */

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

export function chainOrRefuse(chain: Chain | null): Chain {
  if (chain === null) throw new AppError("collection.chainUnavailable");
  return chain;
}
