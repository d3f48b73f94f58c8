import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { appendAudit, canonicalJson, verifyAuditChain } from "../../server/modules/audit/service.js";
import { type TestPlatform, createTestPlatform, databasesUnderTest } from "./helpers.js";

for (const database of databasesUnderTest()) {
  describe(`audit log (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
      for (let i = 1; i <= 5; i++) {
        await appendAudit(test.platform.db, {
          actor: { userId: i, role: "operator" },
          action: "collection.reviewed",
          subject: { type: "collection", id: i },
          details: { decision: i % 2 === 0 ? "approved" : "rejected", nested: { b: 2, a: 1 } },
        });
      }
    });
    afterEach(async () => {
      await test.close();
    });

    /** Tampering as a database administrator would: with the append-only trigger switched off. */
    async function tamper(statement: string) {
      await test.platform.db.execute(sql.raw("alter table audit_log disable trigger audit_log_append_only"));
      await test.platform.db.execute(sql.raw(statement));
      await test.platform.db.execute(sql.raw("alter table audit_log enable trigger audit_log_append_only"));
    }

    it("chains every row to the one before", async () => {
      const report = await verifyAuditChain(test.platform.db, 2);
      expect(report).toMatchObject({ ok: true, rows: 5 });
      expect(report.headHash).toMatch(/^[0-9a-f]{64}$/);
    });

    it("refuses updates and deletes at the database", async () => {
      await expect(test.platform.db.execute(sql`update audit_log set action = 'x' where seq = 2`)).rejects.toThrow();
      await expect(test.platform.db.execute(sql`delete from audit_log where seq = 2`)).rejects.toThrow();
    });

    it("detects an edited row", async () => {
      await tamper(`update audit_log set details = '{"decision":"approved","nested":{"a":1,"b":2}}' where seq = 3`);
      expect(await verifyAuditChain(test.platform.db)).toMatchObject({
        ok: false,
        firstBadSeq: 3,
        problem: "content-changed",
      });
    });

    it("detects a removed row", async () => {
      await tamper("delete from audit_log where seq = 2");
      expect(await verifyAuditChain(test.platform.db)).toMatchObject({
        ok: false,
        firstBadSeq: 3,
        problem: "sequence-gap",
      });
    });

    it("detects reordered rows", async () => {
      await tamper("update audit_log set seq = 100 where seq = 2");
      await tamper("update audit_log set seq = 2 where seq = 4");
      await tamper("update audit_log set seq = 4 where seq = 100");
      expect(await verifyAuditChain(test.platform.db)).toMatchObject({ ok: false, firstBadSeq: 2 });
    });

    it("detects a row rewritten with a recomputed hash but the old link", async () => {
      await tamper("update audit_log set prev_hash = repeat('0', 64) where seq = 4");
      expect(await verifyAuditChain(test.platform.db)).toMatchObject({
        ok: false,
        firstBadSeq: 4,
        problem: "broken-link",
      });
    });

    it("never forks under concurrent appends", async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          appendAudit(test.platform.db, {
            actor: { userId: null, role: "system" },
            action: "concurrent",
            subject: { type: "test", id: i },
          }),
        ),
      );
      expect(await verifyAuditChain(test.platform.db)).toMatchObject({ ok: true, rows: 25 });
    });
  });
}

describe("canonical JSON", () => {
  it("sorts keys at every level so equal content hashes equally", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
});
