import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createCallerFactory, stepUpMiddlewares } from "../../server/trpc/init.js";
import { appRouter } from "../../server/trpc/router.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  login,
  pngBytes,
  promote,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";
import { BASES, EXPECTED, ROLES, type Role, STEP_UP } from "./procedure-access.js";
import { recordFigures } from "./reliability-report.js";

/**
 * Who may call what, generated from the router itself: every procedure ×
 * every kind of caller. The expected base of each procedure is written down
 * here; a procedure the router has and this table lacks fails the suite, so
 * a new procedure cannot ship without a decision about who may call it.
 *
 * Authorisation runs before input parsing, so each cell is probed with no
 * input: a denial is `auth.required` or `auth.forbidden` (and `kyc.notVerified` at the
 * verified-collector door);
 * anything else (a result, a refused input, a domain refusal) means the
 * caller got past the door.
 */
/** Procedures that change the caller's own standing when they pass: each allowed cell gets a fresh caller. */
const SELF_ENDING = new Set(["auth.logout", "privacy.requestErasure"]);
const AUTH_DENIALS = new Set(["auth.required", "auth.forbidden"]);
const DENIALS = new Set([...AUTH_DENIALS, "kyc.notVerified"]);

const createCaller = createCallerFactory(appRouter);
const procedures = appRouter._def.procedures as Record<string, unknown>;

for (const database of databasesUnderTest()) {
  describe(`authorisation matrix (${database.name})`, () => {
    let test: TestPlatform;
    const tokens = new Map<Role, () => Promise<string | null>>();

    beforeAll(async () => {
      test = await createTestPlatform(database);
      const issuerB = await publishedCollection(test);
      const fixed = {
        unverifiedCollector: (await login(test)).token,
        verifiedCollector: (await verifiedCollector(test)).token,
        issuerA: await (async () => {
          const staff = await login(test);
          await promote(test.platform, staff.user.id, "issuer_staff");
          return staff.token;
        })(),
        issuerB: await (async () => {
          const staff = await login(test);
          await promote(test.platform, staff.user.id, "issuer_staff", issuerB.issuerId);
          return staff.token;
        })(),
        operator: await (async () => {
          const person = await login(test);
          await promote(test.platform, person.user.id, "operator");
          return person.token;
        })(),
      };
      tokens.set("anonymous", async () => null);
      for (const role of ROLES.filter((r) => r !== "anonymous")) {
        tokens.set(role, async () => fixed[role as keyof typeof fixed]);
      }
    });
    afterAll(async () => {
      await test?.close();
    });

    it("has a decision for every procedure the router serves, and none for a procedure it does not", () => {
      expect(Object.keys(procedures).sort()).toEqual(Object.keys(EXPECTED).sort());
    });

    it("asks for a step-up on exactly the procedures the written decision names, for its purpose", () => {
      const found: Record<string, string> = {};
      for (const [path, procedure] of Object.entries(procedures)) {
        const { middlewares } = (procedure as { _def: { middlewares: object[] } })._def;
        const purposes = middlewares.flatMap((fn) => stepUpMiddlewares.get(fn) ?? []);
        if (purposes.length > 0) found[path] = purposes.join(",");
      }
      expect(found).toEqual(STEP_UP);
    });

    it("lets exactly the expected callers past every procedure's door", async () => {
      const mismatches: string[] = [];
      let allowed = 0;
      let denied = 0;
      for (const path of Object.keys(procedures)) {
        const expected = new Set<Role>(BASES[EXPECTED[path] ?? "operator"]);
        for (const role of ROLES) {
          let token = await tokens.get(role)!();
          if (SELF_ENDING.has(path) && expected.has(role)) {
            // A fresh account of the same kind, so the shared one stays signed in.
            token = role === "verifiedCollector" ? (await verifiedCollector(test)).token : (await login(test)).token;
            if (role === "issuerA" || role === "issuerB" || role === "operator") {
              const user = await test.platform.identity.resolveSession(test.platform.db, token);
              await promote(test.platform, user!.user.id, role === "operator" ? "operator" : "issuer_staff");
            }
          }
          const { context } = await callerFor(test.platform, { token });
          const caller = createCaller(context) as unknown as Record<
            string,
            Record<string, (input?: unknown) => unknown>
          >;
          const [namespace, name] = path.split(".") as [string, string];
          const outcome = await Promise.resolve()
            .then(() => caller[namespace]![name]!(undefined))
            .then(
              () => "passed",
              (error: unknown) => {
                const appCode = (error as TRPCError).message;
                if (!(error instanceof TRPCError)) return "passed";
                // `kyc.notVerified` is the verified-collector door; elsewhere it is a service's answer
                // (e.g. renewing a verification that does not exist).
                const door = EXPECTED[path] === "verifiedCollector" || role === "anonymous" ? DENIALS : AUTH_DENIALS;
                return door.has(appCode) ? "denied" : "passed";
              },
            );
          const shouldPass = expected.has(role);
          if (outcome === "passed") allowed++;
          else denied++;
          if ((outcome === "passed") !== shouldPass) mismatches.push(`${path} as ${role}: ${outcome}`);
        }
      }
      expect(mismatches).toEqual([]);
      if (database.name === "pglite") {
        recordFigures("authorization_matrix", {
          procedures: Object.keys(procedures).length,
          roles: ROLES.length,
          cells: Object.keys(procedures).length * ROLES.length,
          allowed,
          denied,
          mismatches: mismatches.length,
        });
      }
    });

    it("hides one issuer's collections from another issuer's staff as not found", async () => {
      const a = await callerFor(test.platform, { token: await tokens.get("issuerA")!() });
      const b = await callerFor(test.platform, { token: await tokens.get("issuerB")!() });
      const [mine] = await b.caller.studio.list();
      expect(mine).toBeDefined();
      const collectionId = mine!.id;
      await expectAppError(a.caller.studio.get({ collectionId }), "collection.notFound", "NOT_FOUND");
      await expectAppError(a.caller.studio.sales({ collectionId }), "collection.notFound", "NOT_FOUND");
      await expectAppError(a.caller.studio.submit({ collectionId }), "collection.notFound", "NOT_FOUND");
      await expectAppError(a.caller.studio.publish({ collectionId }), "collection.notFound", "NOT_FOUND");
      await expectAppError(
        a.caller.studio.airdropCheck({ collectionId, recipients: ["13800000000"] }),
        "collection.notFound",
        "NOT_FOUND",
      );
      await expect(b.caller.studio.get({ collectionId })).resolves.toMatchObject({ id: collectionId });
    });

    it("shows an issuer's airdrop progress to that issuer alone", async () => {
      const b = await callerFor(test.platform, { token: await tokens.get("issuerB")!() });
      const a = await callerFor(test.platform, { token: await tokens.get("issuerA")!() });
      const [collection] = await b.caller.studio.list();
      const recipient = await verifiedCollector(test);
      const { airdropId } = await b.caller.studio.airdrop({
        collectionId: collection!.id,
        recipients: [recipient.phone],
      });
      await expectAppError(a.caller.studio.airdropProgress({ airdropId }), "airdrop.notFound", "NOT_FOUND");
      await expect(b.caller.studio.airdropProgress({ airdropId })).resolves.toMatchObject({ airdropId, recipients: 1 });
    });

    it("never lets one account end another's session", async () => {
      const victim = await login(test);
      const attacker = await login(test);
      const victimSession = test.platform.identity.sessionIdOf(victim.token);
      await expectAppError(
        attacker.caller.auth.revokeSession({ sessionId: victimSession }),
        "auth.session.notFound",
        "NOT_FOUND",
      );
      expect((await attacker.caller.auth.sessions()).map((s) => s.id)).not.toContain(victimSession);
      expect(await test.platform.identity.resolveSession(test.platform.db, victim.token)).not.toBeNull();
    });

    it("keeps a collection that is not published out of every public and collector view", async () => {
      // An issuer of its own, so the shared issuers' lists stay as the other cases expect.
      const staff = await login(test);
      const issuerId = await promote(test.platform, staff.user.id, "issuer_staff");
      const { sha256 } = await test.platform.catalog.registerMedia(test.platform.db, issuerId!, pngBytes());
      const now = test.clock.now().getTime();
      const { caller: studio } = await callerFor(test.platform, { token: staff.token });
      const draft = await studio.studio.createDraft({
        title: "未发布",
        description: "d",
        creator: "c",
        story: "s",
        mediaSha256: sha256,
        editionSize: 10,
        priceFen: 100,
        saleStartsAt: new Date(now + 60_000),
        saleEndsAt: new Date(now + 86_400_000),
        perPersonLimit: 1,
        lockDays: 180,
        regiftDays: 730,
      });
      const { caller: anonymous } = await callerFor(test.platform);
      const collector = await callerFor(test.platform, { token: await tokens.get("verifiedCollector")!() });
      const collectionId = draft.id;
      await expectAppError(anonymous.catalog.get({ collectionId }), "collection.notFound", "NOT_FOUND");
      await expectAppError(anonymous.drops.stock({ collectionId }), "collection.notFound", "NOT_FOUND");
      expect((await anonymous.catalog.list()).map((c) => c.id)).not.toContain(collectionId);
      await expectAppError(collector.caller.drops.allowance({ collectionId }), "collection.notFound", "NOT_FOUND");
      await expectAppError(
        collector.caller.drops.reserve({ collectionId, quantity: 1, idempotencyKey: "matrix-draft-1" }),
        "collection.notFound",
        "NOT_FOUND",
      );
    });

    it("never shows a collector another collector's order", async () => {
      const b = await callerFor(test.platform, { token: await tokens.get("issuerB")!() });
      const [collection] = await b.caller.studio.list();
      const buyer = await verifiedCollector(test);
      const order = await buyer.caller.drops.reserve({
        collectionId: collection!.id,
        quantity: 1,
        idempotencyKey: "matrix-order-1",
      });
      const other = await callerFor(test.platform, { token: await tokens.get("verifiedCollector")!() });
      await expectAppError(other.caller.orders.get({ orderNo: order.orderNo }), "order.notFound", "NOT_FOUND");
      await expectAppError(other.caller.orders.cancel({ orderNo: order.orderNo }), "order.notFound", "NOT_FOUND");
      await expectAppError(other.caller.payments.createIntent({ orderNo: order.orderNo }), "order.notFound");
      await expect(buyer.caller.orders.get({ orderNo: order.orderNo })).resolves.toMatchObject({
        orderNo: order.orderNo,
      });
    });
  });
}
