import { and, asc, desc, eq, inArray } from "drizzle-orm";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { collections, issuers, media } from "./tables.js";
import { AppError } from "../../errors.js";
import { appendAudit } from "../audit/service.js";
import type { IdentityService, SessionUser } from "../identity/service.js";
import type { KeyCustody } from "../wallets/custody.js";
import { parseCreditCode } from "./credit-code.js";
import { type MediaStore, type MediaType, sha256Hex, sniffMediaType } from "./media.js";

/**
 * Issuers (museums, brands) and their collections: applications reviewed
 * by operators, drafts with artwork, content review, and publication on
 * chain through the factory. Only published collections are ever shown to
 * collectors; everything an operator or issuer decides is audited.
 */

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

export type SaleState = "upcoming" | "on_sale" | "ended";

export type CollectionRow = typeof collections.$inferSelect;

type Actor = Pick<SessionUser, "id" | "role">;

export function saleStateOf(row: Pick<CollectionRow, "saleStartsAt" | "saleEndsAt">, now: Date): SaleState {
  if (now < row.saleStartsAt) return "upcoming";
  return now < row.saleEndsAt ? "on_sale" : "ended";
}

export function createCatalogService(deps: CatalogDependencies) {
  async function audit(db: Db, actor: Actor, action: string, subject: { type: string; id: number }, details = {}) {
    await appendAudit(db, { actor: { userId: actor.id, role: actor.role }, action, subject, details }, deps.clock());
  }

  async function issuerCollection(db: Db, issuerId: number, collectionId: number): Promise<CollectionRow> {
    const [row] = await db
      .select()
      .from(collections)
      .where(and(eq(collections.id, collectionId), eq(collections.issuerId, issuerId)));
    // Another issuer's collection is "not found", never "forbidden": its existence is not disclosed.
    if (row === undefined) throw new AppError("collection.notFound");
    return row;
  }

  async function checkTerms(db: Db, issuerId: number, input: DraftInput) {
    if (input.lockDays < deps.minLockDays || input.regiftDays < Math.max(deps.minRegiftDays, input.lockDays)) {
      throw new AppError("collection.invalidTerms", {
        minLockDays: deps.minLockDays,
        minRegiftDays: deps.minRegiftDays,
      });
    }
    if (input.saleEndsAt <= input.saleStartsAt || input.perPersonLimit > input.editionSize) {
      throw new AppError("collection.invalidTerms");
    }
    const [file] = await db.select().from(media).where(eq(media.sha256, input.mediaSha256));
    if (file === undefined || file.issuerId !== issuerId) throw new AppError("media.unknown");
  }

  return {
    // ===== issuers =====

    async applyIssuer(db: Db, applicant: SessionUser, input: { legalName: string; creditCode: string }) {
      const parsed = parseCreditCode(input.creditCode);
      if (!parsed.ok) throw new AppError(parsed.code);
      if (applicant.issuerId !== null) throw new AppError("issuer.alreadyMember");
      const [pending] = await db
        .select({ id: issuers.id })
        .from(issuers)
        .where(and(eq(issuers.applicantUserId, applicant.id), eq(issuers.status, "pending")));
      if (pending !== undefined) throw new AppError("issuer.alreadyMember");
      try {
        return await db.transaction(async (tx) => {
          const [created] = await tx
            .insert(issuers)
            .values({ name: input.legalName.trim(), creditCode: parsed.normalised, applicantUserId: applicant.id })
            .returning();
          await audit(tx, applicant, "issuer.applied", { type: "issuer", id: created!.id });
          return created!;
        });
      } catch (error) {
        if (violatedUniqueConstraint(error) === "issuers_credit_code_key") throw new AppError("issuer.creditCodeInUse");
        throw error;
      }
    },

    async reviewIssuer(
      db: Db,
      operator: Actor,
      input: { issuerId: number; approve: boolean; reason?: string | undefined },
    ) {
      if (!input.approve && !input.reason?.trim()) throw new AppError("review.reasonRequired");
      return db.transaction(async (tx) => {
        const [row] = await tx.select().from(issuers).where(eq(issuers.id, input.issuerId)).for("update");
        if (row === undefined) throw new AppError("issuer.notFound");
        if (row.status !== "pending") throw new AppError("issuer.notPending");
        const status = input.approve ? "approved" : "rejected";
        const [updated] = await tx
          .update(issuers)
          .set({ status, rejectionReason: input.approve ? null : input.reason!.trim(), decidedAt: deps.clock() })
          .where(eq(issuers.id, row.id))
          .returning();
        if (input.approve && row.applicantUserId !== null) {
          await deps.identity.assignIssuerStaff(tx, row.applicantUserId, row.id);
        }
        await audit(
          tx,
          operator,
          `issuer.${status}`,
          { type: "issuer", id: row.id },
          input.approve ? {} : { reason: input.reason },
        );
        return updated!;
      });
    },

    async listIssuers(db: Db, status?: "pending" | "approved" | "rejected") {
      const query = db.select().from(issuers);
      return (status === undefined ? query : query.where(eq(issuers.status, status))).orderBy(desc(issuers.id));
    },

    async issuerOf(db: Db, issuerId: number) {
      const [row] = await db.select().from(issuers).where(eq(issuers.id, issuerId));
      if (row === undefined) throw new AppError("issuer.notFound");
      return row;
    },

    // ===== media =====

    /** Checks the file by content and size, stores it by sha256 and registers it to the issuer. */
    async registerMedia(
      db: Db,
      issuerId: number,
      bytes: Uint8Array,
    ): Promise<{ sha256: string; mimeType: MediaType; sizeBytes: number }> {
      if (bytes.length > deps.maxMediaBytes) throw new AppError("media.tooLarge", { maxBytes: deps.maxMediaBytes });
      const mimeType = sniffMediaType(bytes);
      if (mimeType === null) throw new AppError("media.unsupportedType");
      const sha256 = sha256Hex(bytes);
      const [existing] = await db.select().from(media).where(eq(media.sha256, sha256));
      if (existing !== undefined && existing.issuerId !== issuerId) throw new AppError("media.ownedByOtherIssuer");
      await deps.store.put(sha256, bytes);
      if (existing === undefined) {
        await db.insert(media).values({ sha256, mimeType, sizeBytes: bytes.length, issuerId }).onConflictDoNothing();
      }
      return { sha256, mimeType, sizeBytes: bytes.length };
    },

    /** The file if `viewer` may see it: anyone for a published collection's artwork, else its issuer's staff and operators. */
    async readMedia(db: Db, sha256: string, viewer: SessionUser | null) {
      const [file] = await db.select().from(media).where(eq(media.sha256, sha256));
      if (file === undefined) return null;
      const [published] = await db
        .select({ id: collections.id })
        .from(collections)
        .where(and(eq(collections.mediaSha256, sha256), eq(collections.status, "published")))
        .limit(1);
      const allowed =
        published !== undefined ||
        viewer?.role === "operator" ||
        (viewer?.role === "issuer_staff" && viewer.issuerId === file.issuerId);
      if (!allowed) return null;
      const bytes = await deps.store.get(sha256);
      return bytes === null ? null : { bytes, mimeType: file.mimeType };
    },

    // ===== drafts and review =====

    async createDraft(db: Db, actor: Actor, issuerId: number, input: DraftInput) {
      await checkTerms(db, issuerId, input);
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(collections)
          .values({ issuerId, ...input })
          .returning();
        await audit(tx, actor, "collection.drafted", { type: "collection", id: row!.id });
        return row!;
      });
    },

    async updateDraft(db: Db, actor: Actor, issuerId: number, collectionId: number, input: DraftInput) {
      const row = await issuerCollection(db, issuerId, collectionId);
      if (row.status !== "draft" && row.status !== "rejected")
        throw new AppError("collection.wrongState", { status: row.status });
      await checkTerms(db, issuerId, input);
      return db.transaction(async (tx) => {
        const [updated] = await tx
          .update(collections)
          .set({ ...input, status: "draft", rejectionReason: null, updatedAt: deps.clock() })
          .where(and(eq(collections.id, collectionId), inArray(collections.status, ["draft", "rejected"])))
          .returning();
        if (updated === undefined) throw new AppError("collection.wrongState");
        await audit(tx, actor, "collection.edited", { type: "collection", id: collectionId });
        return updated;
      });
    },

    async submit(db: Db, actor: Actor, issuerId: number, collectionId: number) {
      await issuerCollection(db, issuerId, collectionId);
      return db.transaction(async (tx) => {
        const [updated] = await tx
          .update(collections)
          .set({ status: "submitted", updatedAt: deps.clock() })
          .where(and(eq(collections.id, collectionId), eq(collections.status, "draft")))
          .returning();
        if (updated === undefined) throw new AppError("collection.wrongState");
        await audit(tx, actor, "collection.submitted", { type: "collection", id: collectionId });
        return updated;
      });
    },

    async review(
      db: Db,
      operator: Actor,
      input: { collectionId: number; approve: boolean; reason?: string | undefined },
    ) {
      if (!input.approve && !input.reason?.trim()) throw new AppError("review.reasonRequired");
      return db.transaction(async (tx) => {
        const status = input.approve ? "approved" : "rejected";
        const [updated] = await tx
          .update(collections)
          .set({ status, rejectionReason: input.approve ? null : input.reason!.trim(), updatedAt: deps.clock() })
          .where(and(eq(collections.id, input.collectionId), eq(collections.status, "submitted")))
          .returning();
        if (updated === undefined) {
          const [exists] = await tx
            .select({ id: collections.id })
            .from(collections)
            .where(eq(collections.id, input.collectionId));
          throw new AppError(exists === undefined ? "collection.notFound" : "collection.wrongState");
        }
        await audit(
          tx,
          operator,
          `collection.${status}`,
          { type: "collection", id: input.collectionId },
          input.approve ? {} : { reason: input.reason },
        );
        return updated;
      });
    },

    /**
     * Creates the collection's contract through the factory (the platform's
     * publisher account) with the media hash, then marks it published.
     */
    async publish(db: Db, actor: Actor, issuerId: number, collectionId: number) {
      const row = await issuerCollection(db, issuerId, collectionId);
      if (row.status !== "approved") throw new AppError("collection.wrongState", { status: row.status });
      if (deps.chain === null) throw new AppError("collection.chainUnavailable");
      const chain = deps.chain;
      let receipt;
      try {
        receipt = await chain.send("publisher", ({ factory }, overrides) =>
          factory.createCollection(
            {
              name: row.title,
              symbol: `SZ${row.id}`,
              issuer: deps.custody.issuerAddress(issuerId),
              maxSupply: row.editionSize,
              lockDays: row.lockDays,
              regiftDays: row.regiftDays,
              contentHash: `0x${row.mediaSha256}`,
              baseURI: `${deps.publicOrigin}/meta/${row.id}/`,
            },
            overrides,
          ),
        );
      } catch {
        throw new AppError("collection.chainUnavailable");
      }
      const created = receipt.logs
        .map((log) => {
          try {
            return chain.factory.interface.parseLog(log);
          } catch {
            return null;
          }
        })
        .find((parsed) => parsed?.name === "CollectionCreated");
      const contractAddress = String(created!.args.collection);
      return db.transaction(async (tx) => {
        const [updated] = await tx
          .update(collections)
          .set({ status: "published", contractAddress, publishTxHash: receipt.hash, updatedAt: deps.clock() })
          .where(and(eq(collections.id, collectionId), eq(collections.status, "approved")))
          .returning();
        if (updated === undefined) throw new AppError("collection.wrongState");
        await deps.onPublished?.(tx, updated);
        await audit(
          tx,
          actor,
          "collection.published",
          { type: "collection", id: collectionId },
          { contractAddress, txHash: receipt.hash },
        );
        return updated;
      });
    },

    // ===== reading =====

    /** The contract of a published collection. */
    async contractOf(db: Db, collectionId: number): Promise<string> {
      const [row] = await db
        .select({ contractAddress: collections.contractAddress })
        .from(collections)
        .where(and(eq(collections.id, collectionId), eq(collections.status, "published")));
      if (row?.contractAddress == null) throw new AppError("collection.notFound");
      return row.contractAddress;
    },

    listForIssuer: (db: Db, issuerId: number) =>
      db.select().from(collections).where(eq(collections.issuerId, issuerId)).orderBy(desc(collections.id)),

    getForIssuer: issuerCollection,

    listForReview: (db: Db) =>
      db.select().from(collections).where(eq(collections.status, "submitted")).orderBy(asc(collections.updatedAt)),

    /** Published collections with their issuer's name, for collectors. */
    async listPublished(db: Db) {
      return db
        .select({ collection: collections, issuerName: issuers.name, mediaType: media.mimeType })
        .from(collections)
        .innerJoin(issuers, eq(issuers.id, collections.issuerId))
        .innerJoin(media, eq(media.sha256, collections.mediaSha256))
        .where(eq(collections.status, "published"))
        .orderBy(asc(collections.saleStartsAt));
    },

    async getPublished(db: Db, collectionId: number) {
      const [row] = await db
        .select({ collection: collections, issuerName: issuers.name, mediaType: media.mimeType })
        .from(collections)
        .innerJoin(issuers, eq(issuers.id, collections.issuerId))
        .innerJoin(media, eq(media.sha256, collections.mediaSha256))
        .where(and(eq(collections.id, collectionId), eq(collections.status, "published")));
      if (row === undefined) throw new AppError("collection.notFound");
      return row;
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
