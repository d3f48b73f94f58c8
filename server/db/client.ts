import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";

import * as schema from "./schema.js";

export type Schema = typeof schema;
/** A database handle or a transaction: both run the same queries. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: "pglite" | "postgres";
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /**
   * Runs `work` while holding the cluster-wide lock `name` (a PostgreSQL session advisory lock, taken
   * without waiting); answers false, without running it, when another instance holds the lock. On PGlite,
   * which one process owns, it always runs.
   */
  exclusive(name: string, work: () => Promise<unknown>): Promise<boolean>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

export interface DatabaseOptions {
  /** PostgreSQL connection string; without it the embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data folder; `memory://` keeps everything in memory. */
  pgliteDataDir?: string;
  poolSize?: number;
  /** Told when an idle pooled connection breaks. */
  onIdleError?: (error: Error) => void;
  /**
   * PostgreSQL only. `apply` (the default) brings the schema up to date, one instance at a time (an advisory
   * lock); `verify` changes nothing and refuses to open a database whose schema is behind the code's migrations
   * (production: `npm run db:migrate` applies them with a DDL-capable user, the server runs with its own).
   * PGlite, embedded in one process, always applies.
   */
  migrations?: "apply" | "verify";
}

/** The database's schema is behind the migrations this code was built with. */
export class SchemaNotMigratedError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `DATABASE_URL: the database schema is ${pending.length} migration(s) behind this version (first: ${pending[0]}); ` +
        "run `npm run db:migrate` with a user allowed to change the schema, then start again",
    );
    this.name = "SchemaNotMigratedError";
  }
}

const MIGRATION_LOCK = "shuzang.migrations";

/** Applies the committed migrations to PostgreSQL, holding a cluster-wide lock so instances starting together take turns. */
async function applyMigrations(url: string, db: ReturnType<typeof drizzleNodePg<Schema>>): Promise<void> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query("select pg_advisory_lock(hashtextextended($1, 0))", [MIGRATION_LOCK]);
    await migrateNodePg(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await lock.end();
  }
}

/** The migrations of this version that the database has not applied (by their time stamp, as drizzle applies them). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as {
    entries: { tag: string; when: number }[];
  };
  let last = -1;
  try {
    const result = (await db.execute(
      sql`select max(created_at) as last from drizzle.__drizzle_migrations`,
    )) as unknown as { rows: { last: string | number | null }[] };
    last = Number(result.rows[0]?.last ?? -1);
  } catch {
    // No migrations table: nothing applied yet.
  }
  return journal.entries.filter((entry) => entry.when > last).map((entry) => entry.tag);
}

/** Opens the platform database and applies the committed migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url !== undefined) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    // An idle connection the server dropped (restart, failover) is removed from the pool;
    // it must not take the process down. Requests on a dead connection still fail cleanly.
    pool.on("error", (error) => options.onIdleError?.(error));
    // A connection that dies while checked out (between the statements of a transaction, say) would emit
    // an "error" nobody listens to, which ends the process; its next statement fails instead, and the pool
    // drops it on release.
    pool.on("connect", (client) => client.on("error", () => undefined));
    const db = drizzleNodePg({ client: pool, schema });
    if (options.migrations === "verify") {
      const pending = await pendingMigrations(db as unknown as Db);
      if (pending.length > 0) {
        await pool.end();
        throw new SchemaNotMigratedError(pending);
      }
    } else {
      await applyMigrations(options.url, db);
    }
    const locks = advisoryLocks(options.url);
    return {
      db: db as unknown as Db,
      kind: "postgres",
      ping: () => ping(db as unknown as Db),
      exclusive: locks.exclusive,
      close: async () => {
        await locks.close();
        await pool.end();
      },
    };
  }
  const dataDir = options.pgliteDataDir ?? "memory://";
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite({ client, schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db: db as unknown as Db,
    kind: "pglite",
    ping: () => ping(db as unknown as Db),
    exclusive: async (_name, work) => {
      await work();
      return true;
    },
    close: () => client.close(),
  };
}

/**
 * Advisory locks on one connection of their own, outside the pool: a job holding its lock for a long
 * round takes no connection from the requests, and a lost connection releases every lock it held (the
 * server ends the session), so another instance takes the job over at its next round.
 */
function advisoryLocks(url: string) {
  let connection: Promise<pg.Client> | null = null;
  const connect = () => {
    connection ??= (async () => {
      const client = new pg.Client({ connectionString: url });
      client.on("error", () => {
        connection = null;
      });
      client.on("end", () => {
        connection = null;
      });
      await client.connect();
      return client;
    })().catch((error: unknown) => {
      connection = null;
      throw error;
    });
    return connection;
  };
  return {
    async exclusive(name: string, work: () => Promise<unknown>): Promise<boolean> {
      const client = await connect();
      const key = `shuzang.job.${name}`;
      const taken = await client.query<{ ok: boolean }>("select pg_try_advisory_lock(hashtextextended($1, 0)) as ok", [
        key,
      ]);
      if (taken.rows[0]?.ok !== true) return false;
      try {
        await work();
      } finally {
        // A broken connection has released the lock already.
        await client.query("select pg_advisory_unlock(hashtextextended($1, 0))", [key]).catch(() => undefined);
      }
      return true;
    },
    async close() {
      const open = connection;
      connection = null;
      if (open !== null) await (await open.catch(() => null))?.end();
    },
  };
}

async function ping(db: Db): Promise<boolean> {
  try {
    await db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}
