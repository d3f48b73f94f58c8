/**
 * The one schema of the platform, for drizzle-kit and the database client:
 * each table is declared in the module that owns it (`server/modules/<m>/tables.ts`)
 * and only that module reads or writes it; others go through its service. Personal
 * data is stored only as ciphertext (`*_cipher`), keyed hashes (`*_hash`) for
 * lookups, and masked forms (`*_masked`) for display.
 */
export * from "../modules/identity/tables.js";
export * from "../modules/kyc/tables.js";
export * from "../modules/wallets/tables.js";
export * from "../modules/audit/tables.js";
export * from "../modules/catalog/tables.js";
export * from "../modules/drops/tables.js";
export * from "../modules/payments/tables.js";
export * from "../modules/minting/tables.js";
export * from "../modules/collectibles/tables.js";
export * from "../modules/credentials/tables.js";
export * from "../modules/compliance/tables.js";
