import { mkdirSync } from "node:fs";
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
    await migrateNodePg(db, { migrationsFolder: MIGRATIONS_FOLDER });
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
