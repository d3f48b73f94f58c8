import { Writable } from "node:stream";

import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";

import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, buildHttpApp } from "../../../server/http/app.js";
import { maskPhone } from "../../../server/modules/identity/service.js";
import { SANDBOX_MISMATCH_NAME, SANDBOX_UNAVAILABLE_NAME } from "../../../server/providers/kyc/sandbox.js";
import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  freePort,
  makeIdNumber,
  newPhone,
  promote,
  publishedCollection,
} from "../helpers.js";
import { recordFigures } from "../reliability-report.js";

/**
 * Personal data must live only sealed in the vault. After a journey through
 * every path that handles a name, an ID number or a phone number — login,
 * verification (and each way it can fail), buying and paying, gift lookups,
 * an airdrop list, a data export, operator screens, an erasure request — the
 * server's log at its most verbose and every row of every table are searched
 * for each of them in plaintext. The end-to-end suite does the same after a
 * browser journey against `npm start` (`test/e2e/storefront.test.ts`).
 */
const totals = {
  databases: [] as string[],
  secrets_searched: 0,
  log_lines: 0,
  log_bytes: 0,
  tables: 0,
  rows_scanned: 0,
  log_hits: 0,
  table_hits: 0,
};

for (const database of databasesUnderTest()) {
  describe(`personal data leak scan (${database.name})`, () => {
    let test: TestPlatform;
    let app: FastifyInstance;
    let logs: string[];

    beforeEach(async () => {
      const port = await freePort();
      test = await createTestPlatform(database, { env: { PUBLIC_ORIGIN: `http://127.0.0.1:${port}` } });
      logs = [];
      const stream = new Writable({
        write(chunk, _encoding, callback) {
          logs.push(String(chunk));
          callback();
        },
      });
      app = await buildHttpApp(test.platform, { logger: { level: "trace", stream } });
      await app.listen({ host: "127.0.0.1", port });
    });
    afterEach(async () => {
      await app.close();
      await test.close();
    });

    /** A browser of one person: its session cookie and a CSRF token. */
    function browser() {
      let session: string | null = null;
      let phoneOf = "";
      const cookie = () => `${CSRF_COOKIE}=pii-scan${session === null ? "" : `; ${SESSION_COOKIE}=${session}`}`;
      async function call(path: string, input?: unknown, method: "GET" | "POST" = "POST") {
        const response =
          method === "POST"
            ? await app.inject({
                method,
                url: `/trpc/${path}`,
                headers: { cookie: cookie(), [CSRF_HEADER]: "pii-scan", "content-type": "application/json" },
                payload: JSON.stringify(input ?? null),
              })
            : await app.inject({
                method,
                url: `/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
                headers: { cookie: cookie() },
              });
        const issued = response.cookies.find((c) => c.name === SESSION_COOKIE);
        if (issued !== undefined) session = issued.value === "" ? null : issued.value;
        return response;
      }
      return {
        call,
        async login(phone: string) {
          phoneOf = phone;
          await call("auth.requestCode", { phone });
          const response = await call("auth.login", { phone, code: test.codes.get(phone) });
          expect(response.statusCode).toBe(200);
          return response.json().result.data as { id: number };
        },
        /** A step-up confirmed with the code sent to this person's number (it goes through the logs too). */
        async stepUp(purpose: "export" | "gift" | "kyc") {
          expect((await call("auth.requestStepUp", { purpose })).statusCode).toBe(200);
          const confirmed = await call("auth.confirmStepUp", { purpose, code: test.codes.get(phoneOf) });
          expect(confirmed.statusCode).toBe(200);
        },
        token: () => session!,
      };
    }

    it("leaves no name, ID number or phone number in plaintext in the log or any table", async () => {
      const names = { buyer: "测试泄露名", friend: "泄露第二", impostor: "冒用者名" };
      const ids = {
        buyer: makeIdNumber("19900307", "110101", "731"),
        friend: makeIdNumber("19851230", "310104", "482"),
        mismatch: makeIdNumber("19770101", "440305", "615"),
        underage: makeIdNumber("20150601", "440305", "617"),
        unavailable: makeIdNumber("19660101", "510104", "619"),
      };
      const badCheck = `${ids.mismatch.slice(0, 17)}${ids.mismatch[17] === "1" ? "2" : "1"}`;
      const phones = {
        buyer: newPhone(),
        friend: newPhone(),
        failing: newPhone(),
        staff: newPhone(),
        operator: newPhone(),
        stranger: newPhone(),
      };

      // The buyer: login, verification, a purchase paid at the sandbox cashier, a data export, erasure.
      const buyer = browser();
      const buyerAccount = await buyer.login(phones.buyer);
      await buyer.stepUp("kyc");
      expect((await buyer.call("kyc.submit", { name: names.buyer, idNumber: ids.buyer })).statusCode).toBe(200);
      const collection = await publishedCollection(test);
      const reserved = await buyer.call("drops.reserve", {
        collectionId: collection.id,
        quantity: 1,
        idempotencyKey: "pii-scan-order",
      });
      const { orderNo } = reserved.json().result.data as { orderNo: string };
      const intent = (await buyer.call("payments.createIntent", { orderNo })).json().result.data as {
        cashierPath: string;
      };
      await app.inject({ method: "POST", url: `${intent.cashierPath}/pay` });
      expect((await buyer.call("orders.get", { orderNo }, "GET")).json().result.data.status).toBe("paid");

      // A friend, verified, looks the buyer up to send a gift, by phone and by collector id.
      const friend = browser();
      await friend.login(phones.friend);
      await friend.stepUp("kyc");
      await friend.call("kyc.submit", { name: names.friend, idNumber: ids.friend });
      expect((await friend.call("gifts.lookup", { recipient: phones.buyer })).statusCode).toBeLessThan(500);
      await friend.call("gifts.lookup", { recipient: String(buyerAccount.id) });
      await friend.call("gifts.lookup", { recipient: phones.stranger });

      // Every way a verification can fail, each with the personal data in the request.
      const failing = browser();
      await failing.login(phones.failing);
      await failing.stepUp("kyc");
      await failing.call("kyc.submit", { name: SANDBOX_MISMATCH_NAME, idNumber: ids.mismatch });
      await failing.call("kyc.submit", { name: names.impostor, idNumber: ids.underage });
      await failing.call("kyc.submit", { name: names.impostor, idNumber: badCheck });
      await failing.call("kyc.submit", { name: names.impostor, idNumber: ids.buyer });
      await failing.call("kyc.submit", { name: SANDBOX_UNAVAILABLE_NAME, idNumber: ids.unavailable });
      await failing.call("kyc.submit", { name: "Not A Han Name", idNumber: ids.unavailable });

      // An issuer checks and runs an airdrop list of phone numbers.
      const staff = browser();
      const staffAccount = await staff.login(phones.staff);
      await promote(test.platform, staffAccount.id, "issuer_staff", collection.issuerId);
      const list = [phones.friend, phones.stranger, phones.buyer, "not-a-number"];
      await staff.call("studio.airdropCheck", { collectionId: collection.id, recipients: list });
      await staff.call("studio.airdrop", { collectionId: collection.id, recipients: [phones.friend] });

      // An operator's screens and an audited action.
      const operator = browser();
      const operatorAccount = await operator.login(phones.operator);
      await promote(test.platform, operatorAccount.id, "operator");
      await operator.call("ops.kycExceptions", {}, "GET");
      await operator.call("ops.orders", {}, "GET");
      await operator.call("audit.recent", undefined, "GET");
      await operator.call("gifts.suspend", { userId: buyerAccount.id, suspended: true, reason: "转售调查" });

      await buyer.stepUp("export");
      const exported = await buyer.call("privacy.exportMyData");
      expect(exported.json().result.data.identity).toEqual({ name: names.buyer, idNumber: ids.buyer });
      expect((await buyer.call("privacy.requestErasure")).statusCode).toBe(200);
      await test.platform.sandboxPayments?.whenIdle();

      const secrets = [...Object.values(names), ...Object.values(ids), badCheck, ...Object.values(phones)];
      const logText = logs.join("");
      const logHits = secrets.filter((secret) => logText.includes(secret));

      const tables = (
        (await test.platform.db.execute(
          sql`select tablename from pg_tables where schemaname = 'public' order by tablename`,
        )) as unknown as { rows: { tablename: string }[] }
      ).rows.map((r) => r.tablename);
      const tableHits: string[] = [];
      let rowsScanned = 0;
      let maskedSeen = false;
      for (const table of tables) {
        const rows = (
          (await test.platform.db.execute(sql.raw(`select t::text as row from "${table}" t`))) as unknown as {
            rows: { row: string }[];
          }
        ).rows;
        rowsScanned += rows.length;
        for (const { row } of rows) {
          if (row.includes(maskPhone(phones.buyer))) maskedSeen = true;
          for (const secret of secrets) if (row.includes(secret)) tableHits.push(`${table}: ${secret}`);
        }
      }

      // The scan reads what it claims to: the masked form is there, and so is the log of every request.
      expect(maskedSeen).toBe(true);
      expect(logText).toContain('"path":"/trpc/kyc.submit"');
      expect(logHits).toEqual([]);
      expect(tableHits).toEqual([]);
      totals.databases.push(database.name);
      totals.secrets_searched = secrets.length;
      totals.log_lines += logs.length;
      totals.log_bytes += logText.length;
      totals.tables = tables.length;
      totals.rows_scanned += rowsScanned;
      totals.log_hits += logHits.length;
      totals.table_hits += tableHits.length;
    });
  });
}

afterAll(() => {
  if (totals.databases.length > 0) recordFigures("pii_leak_scan_server", totals);
});
