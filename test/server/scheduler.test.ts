import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";

import { type Database, openDatabase } from "../../server/db/client.js";
import { previousChinaDay } from "../../server/schedule.js";
import { type ScheduledJob, createScheduler } from "../../server/scheduler.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  emptyPostgresDatabase,
  login,
  makeIdNumber,
  stepUp,
} from "./helpers.js";

/**
 * The one scheduler: every periodic job of the platform is in its table,
 * each round runs on one instance at a time (a PostgreSQL advisory lock),
 * a failing job is reported and retried, and the PII purge is one of them.
 */
function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

for (const database of databasesUnderTest()) {
  describe(`scheduler (${database.name})`, () => {
    let test: TestPlatform | undefined;
    afterEach(async () => {
      await test?.close();
      test = undefined;
    });

    it("lists every periodic job of the platform once, each with its configured interval", async () => {
      test = await createTestPlatform(database, {
        env: { ORDER_EXPIRY_INTERVAL_MS: "1234", PII_PURGE_INTERVAL_MS: "56789", LOTTERY_DRAW_INTERVAL_MS: "4321" },
      });
      const jobs = new Map(test.platform.scheduler.status().map((job) => [job.name, job.intervalMs]));
      // No chain in this platform: mint rounds and registry sync wait for one; the sandbox publishes statements.
      expect([...jobs.keys()].sort()).toEqual([
        "lottery-draws",
        "order-expiry",
        "pii-purge",
        "reconciliation",
        "refund-resends",
      ]);
      expect(jobs.get("order-expiry")).toBe(1234);
      expect(jobs.get("lottery-draws")).toBe(4321);
      expect(jobs.get("pii-purge")).toBe(56789);
    });

    it("purges personal data past its retention when the pii-purge job runs", async () => {
      test = await createTestPlatform(database);
      const { caller, token, user } = await login(test);
      await stepUp(test, caller, "kyc");
      await caller.kyc.submit({ name: "张晓明", idNumber: makeIdNumber("19900307", "110101", "123") });
      const { caller: same, jar } = await callerFor(test.platform, { token });
      jar.session = token;
      await same.privacy.requestErasure();

      expect(await test.platform.scheduler.runNow("pii-purge")).toBe(true);
      expect(await test.platform.kyc.exportIdentity(test.platform.db, user.id)).not.toBeNull();
      test.clock.advance(3 * 366 * 86_400_000);
      expect(await test.platform.scheduler.runNow("pii-purge")).toBe(true);
      expect(await test.platform.kyc.exportIdentity(test.platform.db, user.id)).toBeNull();
      const status = test.platform.scheduler.status().find((job) => job.name === "pii-purge")!;
      expect(status).toMatchObject({ runs: 2, failures: 0, lastError: null });
    });

    it("reports a failing job with its error, keeps its loop going and recovers", async () => {
      test = await createTestPlatform(database);
      let calls = 0;
      const scheduler = createScheduler({
        jobs: [
          {
            name: "flaky",
            intervalMs: 20,
            run: async () => {
              calls++;
              if (calls <= 2) throw new Error(`failure ${calls}`);
            },
          },
        ],
        exclusive: test.platform.database.exclusive,
      });
      scheduler.start();
      await expect.poll(() => calls, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      await scheduler.stop();
      const [status] = scheduler.status();
      expect(status).toMatchObject({ name: "flaky", failures: 2, lastError: "failure 2" });
      expect(status!.lastSucceededAt).not.toBeNull();

      const metrics = await test.platform.metrics.registry.metrics();
      expect(metrics).toContain('shuzang_job_last_run_seconds{job="order-expiry"}');
    });

    it("refuses a job table that names a job twice", () => {
      const job: ScheduledJob = { name: "twice", intervalMs: 10, run: async () => undefined };
      expect(() => createScheduler({ jobs: [job, job], exclusive: async () => true })).toThrow(/twice/);
    });
  });
}

describe("the previous China day", () => {
  it("is taken in UTC+8", () => {
    expect(previousChinaDay(new Date("2026-12-06T15:59:59Z"))).toBe("2026-12-05");
    expect(previousChinaDay(new Date("2026-12-06T16:00:00Z"))).toBe("2026-12-06");
  });
});

const adminUrl = process.env.DATABASE_URL;
describe.skipIf(adminUrl === undefined || adminUrl === "")("scheduler across instances (postgres)", () => {
  let drop = async () => undefined as unknown;
  const open: Database[] = [];
  afterEach(async () => {
    for (const database of open.splice(0)) await database.close();
    await drop();
  });

  it("runs each round of a job on one instance at a time, and the other takes over when it is free", async () => {
    const empty = await emptyPostgresDatabase(adminUrl!, "shuzang_sched");
    drop = empty.drop;
    const url = new URL(empty.url);
    const first = await openDatabase({ url: url.toString(), poolSize: 2 });
    open.push(first);
    const second = await openDatabase({ url: url.toString(), poolSize: 2 });
    open.push(second);

    const gate = deferred();
    const ranOn: string[] = [];
    const job = (instance: string): ScheduledJob => ({
      name: "order-expiry",
      intervalMs: 60_000,
      run: async () => {
        ranOn.push(instance);
        if (instance === "first") await gate.promise;
      },
    });
    const a = createScheduler({ jobs: [job("first")], exclusive: first.exclusive });
    const b = createScheduler({ jobs: [job("second")], exclusive: second.exclusive });

    const held = a.runNow("order-expiry");
    await expect.poll(() => ranOn.length).toBe(1);
    expect(await a.runNow("order-expiry")).toBe(false);
    // While the first instance's round is under way, the second's round is skipped, not run beside it.
    expect(await b.runNow("order-expiry")).toBe(false);
    expect(b.status()[0]).toMatchObject({ runs: 0, skipped: 1 });
    gate.release();
    expect(await held).toBe(true);
    // Free again: the second instance runs the next round.
    expect(await b.runNow("order-expiry")).toBe(true);
    expect(ranOn).toEqual(["first", "second"]);

    // A lost connection releases the lock: the first instance's lock connection dies mid-round...
    const stuck = deferred();
    const c = createScheduler({
      jobs: [{ name: "mint-rounds", intervalMs: 60_000, run: () => stuck.promise }],
      exclusive: first.exclusive,
    });
    const dying = c.runNow("mint-rounds");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const killer = new pg.Client({ connectionString: url.toString() });
    await killer.connect();
    await killer.query(
      `select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and pid <> pg_backend_pid()`,
    );
    await killer.end();
    // ...and the other instance can take the job over at once.
    const d = createScheduler({
      jobs: [{ name: "mint-rounds", intervalMs: 60_000, run: async () => undefined }],
      exclusive: second.exclusive,
    });
    await expect.poll(() => d.runNow("mint-rounds"), { timeout: 5_000 }).toBe(true);
    stuck.release();
    await dying;
  });
});
