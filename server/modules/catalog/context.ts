import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { appendAudit } from "../audit/service.js";
import type { IdentityService, SessionUser } from "../identity/service.js";
import type { KeyCustody } from "../wallets/custody.js";
import type { MediaStore } from "./media.js";
import type { collections } from "./tables.js";

/** What the catalog's parts share: their dependencies, row types and the audit entry they write. */

export interface CatalogDependencies {
  identity: IdentityService;
  custody: KeyCustody;
  store: MediaStore;
  chain: Chain | null;
  clock: () => Date;
  maxMediaBytes: number;
  minLockDays: number;
  minRegiftDays: number;
  publicOrigin: string;
  /** Runs in the publication's transaction (the drops module allocates the edition slots). */
  onPublished?: (db: Db, collection: CollectionRow) => Promise<void>;
}

export interface DraftInput {
  title: string;
  description: string;
  creator: string;
  story: string;
  mediaSha256: string;
  editionSize: number;
  priceFen: number;
  saleStartsAt: Date;
  saleEndsAt: Date;
  perPersonLimit: number;
  lockDays: number;
  regiftDays: number;
}

export type CollectionRow = typeof collections.$inferSelect;

export type Actor = Pick<SessionUser, "id" | "role">;

/** Records what `actor` decided about an issuer or a collection. */
export async function auditCatalog(
  db: Db,
  clock: () => Date,
  actor: Actor,
  action: string,
  subject: { type: string; id: number },
  details = {},
) {
  await appendAudit(db, { actor: { userId: actor.id, role: actor.role }, action, subject, details }, clock());
}
