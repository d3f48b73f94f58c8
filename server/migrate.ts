import { SchemaNotMigratedError, openDatabase } from "./db/client.js";

/**
 * `npm run db:migrate`: brings the PostgreSQL schema at DATABASE_URL up to this
 * version's migrations, holding the migration lock (instances that start
 * meanwhile wait for it or, in production, refuse an unmigrated schema). Run it
 * with a user allowed to change the schema; the server runs with its own.
 */
async function migrate(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (url === undefined || !/^postgres(ql)?:\/\//.test(url)) {
    console.error("DATABASE_URL: required, a postgres:// URL (the embedded PGlite migrates itself at start)");
    process.exit(1);
  }
  let pending: string[] = [];
  try {
    await (await openDatabase({ url, poolSize: 1, migrations: "verify" })).close();
  } catch (error) {
    if (!(error instanceof SchemaNotMigratedError)) throw error;
    pending = error.pending;
  }
  if (pending.length === 0) {
    console.log("db:migrate: the schema is up to date");
    return;
  }
  await (await openDatabase({ url, poolSize: 1, migrations: "apply" })).close();
  console.log(`db:migrate: applied ${pending.length} migration(s): ${pending.join(", ")}`);
}

await migrate();
