import { createCertificates } from "./certificates.js";
import { createComplianceRecords } from "./compliance.js";
import type { CollectiblesDependencies } from "./context.js";
import { createGifting, createRecipientLookup } from "./gifting.js";
import { createHoldings } from "./holdings.js";

/**
 * Collectors' collectibles: the index of minted tokens and their holders,
 * certificates (facts read from the chain), public verification by contract
 * and token id (chain only), and gifts between verified people under the
 * lock — there is no price anywhere in a gift.
 */

export type { CollectiblesDependencies } from "./context.js";
export { RECIPIENT_LOOKUPS_PER_10_MINUTES } from "./gifting.js";

export function createCollectiblesService(deps: CollectiblesDependencies) {
  const lookupRecipient = createRecipientLookup(deps);
  return {
    // the index of tokens and holders (holdings.ts)
    ...createHoldings(deps),
    // certificates and public verification (certificates.ts)
    ...createCertificates(deps),
    // recoveries and takedowns in the index (compliance.ts)
    ...createComplianceRecords(deps),
    // gifts (gifting.ts)
    lookupRecipient,
    ...createGifting(deps, lookupRecipient),
  };
}

export type CollectiblesService = ReturnType<typeof createCollectiblesService>;
