import { eq } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { type IdentityDependencies, type IdentityKeys, type Role, maskPhone, toSessionUser } from "./model.js";
import { users } from "./tables.js";

/** Accounts by phone number, their roles, and the suspension of their gifting. */
export function createAccounts(deps: Pick<IdentityDependencies, "sealer" | "clock">, keys: IdentityKeys) {
  async function ensureAccount(db: Db, phone: string, role: Role = "collector", issuerId: number | null = null) {
    const hash = keys.phoneHash(phone);
    const [existing] = await db.select().from(users).where(eq(users.phoneHash, hash));
    if (existing !== undefined) return toSessionUser(existing);
    try {
      return await db.transaction(async (tx) => {
        const [created] = await tx
          .insert(users)
          .values({ phoneHash: hash, phoneCipher: "pending", phoneMasked: maskPhone(phone), role, issuerId })
          .returning();
        // The user id is part of the sealing context, so the number is sealed once the id exists.
        await tx
          .update(users)
          .set({ phoneCipher: deps.sealer.seal(phone, `user.phone:${created!.id}`) })
          .where(eq(users.id, created!.id));
        return toSessionUser(created!);
      });
    } catch (error) {
      if (violatedUniqueConstraint(error) !== "users_phone_hash_key") throw error;
      const [raced] = await db.select().from(users).where(eq(users.phoneHash, hash));
      return toSessionUser(raced!);
    }
  }

  return {
    ensureAccount,

    async findAccountByPhone(db: Db, phone: string) {
      const [row] = await db
        .select()
        .from(users)
        .where(eq(users.phoneHash, keys.phoneHash(phone)));
      return row === undefined ? null : toSessionUser(row);
    },

    async findAccountById(db: Db, userId: number) {
      const [row] = await db.select().from(users).where(eq(users.id, userId));
      return row === undefined ? null : toSessionUser(row);
    },

    async setGiftingSuspended(db: Db, userId: number, suspended: boolean) {
      const updated = await db
        .update(users)
        .set({ giftingSuspendedAt: suspended ? deps.clock() : null })
        .where(eq(users.id, userId))
        .returning({ id: users.id });
      return updated.length > 0;
    },

    async isGiftingSuspended(db: Db, userId: number) {
      const [row] = await db.select({ at: users.giftingSuspendedAt }).from(users).where(eq(users.id, userId));
      return row?.at != null;
    },

    async grantOperator(db: Db, phone: string) {
      const account = await ensureAccount(db, phone, "operator");
      if (account.role === "operator") return { user: account, changed: false };
      await db.update(users).set({ role: "operator", issuerId: null }).where(eq(users.id, account.id));
      return { user: { ...account, role: "operator" as const, issuerId: null }, changed: true };
    },

    async assignIssuerStaff(db: Db, userId: number, issuerId: number) {
      await db.update(users).set({ role: "issuer_staff", issuerId }).where(eq(users.id, userId));
    },
  };
}

/** A person's own data: its export, and the request to erase it. */
export function createPersonalData(deps: Pick<IdentityDependencies, "sealer" | "clock">) {
  return {
    async exportAccount(db: Db, userId: number) {
      const [row] = await db.select().from(users).where(eq(users.id, userId));
      if (row === undefined) return null;
      return {
        phone: deps.sealer.open(row.phoneCipher, `user.phone:${row.id}`),
        role: row.role,
        createdAt: row.createdAt,
      };
    },

    async markErasureRequested(db: Db, userId: number) {
      await db
        .update(users)
        .set({ status: "erasure_requested", erasureRequestedAt: deps.clock() })
        .where(eq(users.id, userId));
    },
  };
}
