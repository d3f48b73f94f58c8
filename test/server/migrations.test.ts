import { execFile } from "node:child_process";
import { promisify } from "node:util";

import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";

import { SchemaNotMigratedError, openDatabase, pendingMigrations } from "../../server/db/client.js";
import { emptyPostgresDatabase } from "./helpers.js";

/**
 * Schema changes in production: `npm run db:migrate` applies them under a lock
 * (instances starting together take turns), and a server told to verify
 * refuses a schema behind its version instead of changing it.
 */
const adminUrl = process.env.DATABASE_URL;
const run = promisify(execFile);

describe.skipIf(adminUrl === undefined || adminUrl === "")("migrations (postgres)", () => {
  let drop = async () => undefined as unknown;
  afterEach(async () => {
    await drop();
  });

  async function emptyDatabase(): Promise<string> {
    const database = await emptyPostgresDatabase(adminUrl!, "shuzang_migrate");
    drop = database.drop;
    return database.url;
  }

  it("refuses an unmigrated schema in verify mode, naming the command, and opens it once db:migrate has run", async () => {
    const url = await emptyDatabase();
    const refused = await openDatabase({ url, migrations: "verify" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SchemaNotMigratedError);
    expect((refused as Error).message).toMatch(/npm run db:migrate/);
    expect((refused as SchemaNotMigratedError).pending[0]).toBe("0000_init");
    // Verifying changed nothing: not even drizzle's bookkeeping schema exists.
    const probe = new pg.Client({ connectionString: url });
    await probe.connect();
    const schemas = await probe.query("select 1 from information_schema.schemata where schema_name = 'drizzle'");
    expect(schemas.rowCount).toBe(0);
    await probe.end();

    const first = await run("npx", ["tsx", "server/migrate.ts"], { env: { ...process.env, DATABASE_URL: url } });
    expect(first.stdout).toMatch(/applied \d+ migration\(s\): 0000_init/);
    const again = await run("npx", ["tsx", "server/migrate.ts"], { env: { ...process.env, DATABASE_URL: url } });
    expect(again.stdout).toMatch(/up to date/);

    const database = await openDatabase({ url, migrations: "verify" });
    expect(await pendingMigrations(database.db)).toEqual([]);
    await database.close();
  });

  it("lets instances that start together migrate one at a time", async () => {
    const url = await emptyDatabase();
    const opened = await Promise.all([1, 2, 3].map(() => openDatabase({ url, poolSize: 2, migrations: "apply" })));
    for (const database of opened) {
      expect(await pendingMigrations(database.db)).toEqual([]);
      await database.close();
    }
  });
});
