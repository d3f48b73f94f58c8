import pg from "pg";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  type TestPlatform,
  createTestPlatform,
  freshPostgresDatabase,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";
import { recordFigures } from "./reliability-report.js";

/**
 * The database connection drops in the middle of a burst of reservations
 * (every server connection of the database is terminated by PostgreSQL
 * while transactions are in flight): each request either completes or fails
 * with an error and nothing half-written, and the platform serves the same
 * people again once new connections are made.
 */
const adminUrl = process.env.DATABASE_URL;

describe.skipIf(adminUrl === undefined || adminUrl === "")("database loss mid-request (postgres)", () => {
  let test: TestPlatform;
  let databaseName = "";

  beforeAll(async () => {
    test = await createTestPlatform(
      {
        name: "postgres",
        open: async () => {
          const database = await freshPostgresDatabase(adminUrl!, "shuzang_test", 8);
          const [row] = (
            (await database.db.execute(sql`select current_database() as name`)) as unknown as {
              rows: { name: string }[];
            }
          ).rows;
          databaseName = row!.name;
          return database;
        },
      },
      {
        env: {
          RESERVE_ATTEMPTS_PER_MINUTE: "1000",
          OTP_HOURLY_LIMIT_PER_IP: "1000",
          LOGIN_ATTEMPTS_PER_IP_15MIN: "1000",
        },
      },
    );
  });
  afterAll(async () => {
    await test?.close();
  });

  /**
   * The test's own reads, after the drop: a pooled connection the drop ended may not have heard of it yet
   * (its "terminated" message still on the way), so a read that meets one asks again on the next.
   */
  async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return ((await test.platform.db.execute(query)) as unknown as { rows: T[] }).rows;
      } catch (error) {
        const code = (error as { cause?: { code?: string } }).cause?.code;
        if (code !== "57P01" || attempt >= 10) throw error;
      }
    }
  }

  it("fails the requests caught by the drop cleanly, leaves no partial reservation, and recovers", async () => {
    const collection = await publishedCollection(test, { editionSize: 60, perPersonLimit: 1 });
    const buyers = await Promise.all(Array.from({ length: 40 }, () => verifiedCollector(test)));
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();

    const attempts = buyers.map((buyer, i) =>
      buyer.caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: `db-loss-${i}-key` }).then(
        () => "reserved" as const,
        () => "failed" as const,
      ),
    );
    // Pull the plug while the burst is in flight.
    await new Promise((resolve) => setTimeout(resolve, 15));
    const killed = await admin.query(
      "select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()) t",
      [databaseName],
    );
    await admin.end();
    const outcomes = await Promise.all(attempts);
    // Let the pooled connections that were idle at the drop hear of it before the checks below.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const reserved = outcomes.filter((o) => o === "reserved").length;
    const failed = outcomes.length - reserved;

    // Every reserved edition belongs to exactly one created order and each order to its person's count.
    const [slots] = await rows<{ n: number }>(
      sql`select count(*)::int as n from edition_slots where collection_id = ${collection.id} and status = 'reserved'`,
    );
    const [ordered] = await rows<{ n: number; orphans: number }>(sql`
      select coalesce(sum(o.quantity), 0)::int as n,
             count(*) filter (where not exists (select 1 from order_events e where e.order_id = o.id))::int as orphans
      from orders o where o.collection_id = ${collection.id} and o.status = 'created'`);
    const [counts] = await rows<{ mismatched: number }>(sql`
      select count(*)::int as mismatched from purchase_counts p
      where p.collection_id = ${collection.id}
        and p.count <> (select coalesce(sum(quantity), 0) from orders o
                        where o.collection_id = p.collection_id and o.commitment = p.commitment and o.status = 'created')`);
    expect(slots!.n).toBe(reserved);
    expect(ordered!.n).toBe(reserved);
    expect(ordered!.orphans).toBe(0);
    expect(counts!.mismatched).toBe(0);

    // The same people, the same keys: everyone ends with exactly one order.
    const retried = await Promise.all(
      buyers.map((buyer, i) =>
        buyer.caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: `db-loss-${i}-key` }),
      ),
    );
    expect(new Set(retried.map((o) => o.orderNo)).size).toBe(40);
    const [after] = await rows<{ n: number }>(
      sql`select count(*)::int as n from edition_slots where collection_id = ${collection.id} and status = 'reserved'`,
    );
    expect(after!.n).toBe(40);

    recordFigures("database_loss", {
      attempts: outcomes.length,
      connections_terminated: killed.rows[0].n,
      reserved_before_loss_or_through_it: reserved,
      failed_cleanly: failed,
      partial_writes: 0,
      recovered_on_retry: retried.length,
    });
  });
});
