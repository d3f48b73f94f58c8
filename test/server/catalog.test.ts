import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { sniffMediaType } from "../../server/modules/catalog/media.js";
import { creditCodeCheckCharacter, parseCreditCode } from "../../server/modules/catalog/credit-code.js";
import { verifyAuditChain } from "../../server/modules/audit/service.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  expectInputError,
  login,
  pngBytes,
  promote,
} from "./helpers.js";

describe("unified social credit codes (GB 32100)", () => {
  it("accepts real codes and computes their check character", () => {
    for (const code of ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"]) {
      expect(parseCreditCode(code)).toEqual({ ok: true, normalised: code });
    }
    expect(creditCodeCheckCharacter("91350100M000100Y4")).toBe("3");
    expect(parseCreditCode(" 91350100m000100y43 ")).toEqual({ ok: true, normalised: "91350100M000100Y43" });
  });

  it("refuses a wrong check character and characters outside the alphabet", () => {
    expect(parseCreditCode("91350100M000100Y44")).toEqual({ ok: false, code: "issuer.creditCode.checksum" });
    for (const bad of ["91350100M000100Y4", "91350100I000100Y43", "9135010OM000100Y43", "91350100M000100Z43"]) {
      expect(parseCreditCode(bad)).toEqual({ ok: false, code: "issuer.creditCode.format" });
    }
  });
});

describe("media types by content", () => {
  it("recognises each accepted format by its bytes and nothing else", () => {
    const riff = (kind: string) => Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from(kind)]);
    expect(sniffMediaType(pngBytes())).toBe("image/png");
    expect(sniffMediaType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBe("image/jpeg");
    expect(sniffMediaType(Buffer.from("GIF89a-rest"))).toBe("image/gif");
    expect(sniffMediaType(riff("WEBPVP8 "))).toBe("image/webp");
    expect(sniffMediaType(Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from("ftypisom-rest")]))).toBe("video/mp4");
    expect(sniffMediaType(Buffer.concat([Buffer.from("glTF"), Buffer.from([2, 0, 0, 0, 0, 0, 0, 0])]))).toBe(
      "model/gltf-binary",
    );
    expect(sniffMediaType(riff("WAVEfmt "))).toBeNull();
    expect(sniffMediaType(Buffer.from("<svg xmlns=...>"))).toBeNull();
    expect(sniffMediaType(Buffer.from("%PDF-1.7"))).toBeNull();
  });
});

const DAY = 86_400_000;

for (const database of databasesUnderTest()) {
  describe(`issuers and collections (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
    });
    afterEach(async () => {
      await test.close();
    });

    async function operator() {
      const person = await login(test);
      await promote(test.platform, person.user.id, "operator");
      return (await callerFor(test.platform, { token: person.token })).caller;
    }

    async function issuerStaff() {
      const person = await login(test);
      const issuerId = await promote(test.platform, person.user.id, "issuer_staff");
      const { caller } = await callerFor(test.platform, { token: person.token });
      return { caller, issuerId: issuerId!, user: person.user };
    }

    function draftInput(mediaSha256: string, changes: Record<string, unknown> = {}) {
      const now = test.clock.now().getTime();
      return {
        title: "千里江山图·局部",
        description: "北宋王希孟青绿山水长卷的数字复刻",
        creator: "王希孟",
        story: "十八岁的王希孟用半年时间完成了这幅长卷。",
        mediaSha256,
        editionSize: 1000,
        priceFen: 1990,
        saleStartsAt: new Date(now + DAY),
        saleEndsAt: new Date(now + 8 * DAY),
        perPersonLimit: 2,
        lockDays: 180,
        regiftDays: 730,
        ...changes,
      };
    }

    async function uploaded(issuerId: number) {
      return test.platform.catalog.registerMedia(test.platform.db, issuerId, pngBytes());
    }

    it("lets an organisation apply and an operator approve it, making the applicant its staff", async () => {
      const applicant = await login(test);
      const application = await applicant.caller.issuer
        .submitApplication({ legalName: "故宫博物院", creditCode: "12100000400010013C" })
        .catch(() => null);
      // The example above is not a valid code; a valid one is accepted.
      expect(application).toBeNull();
      const applied = await applicant.caller.issuer.submitApplication({
        legalName: "故宫博物院",
        creditCode: "91350100M000100Y43",
      });
      expect(applied.status).toBe("pending");
      await expectAppError(
        applicant.caller.issuer.submitApplication({ legalName: "又一个", creditCode: "91110000802100433B" }),
        "issuer.alreadyMember",
        "CONFLICT",
      );

      const ops = await operator();
      expect((await ops.issuer.applications({ status: "pending" })).map((i) => i.id)).toEqual([applied.id]);
      await ops.issuer.review({ issuerId: applied.id, approve: true });
      await expectAppError(
        ops.issuer.review({ issuerId: applied.id, approve: true }),
        "issuer.notPending",
        "PRECONDITION_FAILED",
      );

      const { caller: staff } = await callerFor(test.platform, { token: applicant.token });
      expect(await staff.auth.me()).toMatchObject({ role: "issuer_staff", issuerId: applied.id });
      expect(await staff.issuer.mine()).toMatchObject({
        name: "故宫博物院",
        creditCode: "91350100M000100Y43",
        status: "approved",
      });
      const audit = await verifyAuditChain(test.platform.db);
      expect(audit).toMatchObject({ ok: true, rows: 2 });
    });

    it("refuses a bad credit code, a duplicate organisation and a rejection without reason", async () => {
      const first = await login(test);
      await expectAppError(
        first.caller.issuer.submitApplication({ legalName: "某博物馆", creditCode: "91350100M000100Y44" }),
        "issuer.creditCode.checksum",
        "BAD_REQUEST",
      );
      await expectInputError(
        first.caller.issuer.submitApplication({ legalName: "某博物馆", creditCode: "913501" }),
        "issuer.creditCode.format",
      );
      await first.caller.issuer.submitApplication({ legalName: "某博物馆", creditCode: "91350100M000100Y43" });
      const second = await login(test);
      await expectAppError(
        second.caller.issuer.submitApplication({ legalName: "冒名", creditCode: "91350100M000100Y43" }),
        "issuer.creditCodeInUse",
        "CONFLICT",
      );
      const ops = await operator();
      const [pending] = await ops.issuer.applications({ status: "pending" });
      expect(await first.caller.issuer.myApplication()).toMatchObject({ name: "某博物馆", status: "pending" });
      expect(await second.caller.issuer.myApplication()).toBeNull();
      await expectInputError(ops.issuer.review({ issuerId: pending!.id, approve: false }), "review.reasonRequired");
      await ops.issuer.review({ issuerId: pending!.id, approve: false, reason: "营业执照信息不一致" });
      expect((await ops.issuer.applications({ status: "rejected" }))[0]).toMatchObject({
        rejectionReason: "营业执照信息不一致",
      });
      // The applicant sees the decision and its reason.
      expect(await first.caller.issuer.myApplication()).toMatchObject({
        status: "rejected",
        rejectionReason: "营业执照信息不一致",
      });
    });

    it("takes a collection from draft through review; rejected drafts can be fixed and resubmitted", async () => {
      const { caller: staff, issuerId } = await issuerStaff();
      const ops = await operator();
      const media = await uploaded(issuerId);
      const draft = await staff.studio.createDraft(draftInput(media.sha256));
      expect(draft.status).toBe("draft");
      await staff.studio.submit({ collectionId: draft.id });
      await expectAppError(
        staff.studio.submit({ collectionId: draft.id }),
        "collection.wrongState",
        "PRECONDITION_FAILED",
      );
      await expectAppError(
        staff.studio.updateDraft({ collectionId: draft.id, draft: draftInput(media.sha256) }),
        "collection.wrongState",
      );
      expect((await ops.review.queue()).map((c) => c.id)).toEqual([draft.id]);

      await ops.review.decide({ collectionId: draft.id, approve: false, reason: "作品介绍需补充馆藏出处" });
      const fixed = await staff.studio.updateDraft({
        collectionId: draft.id,
        draft: draftInput(media.sha256, { description: "故宫博物院藏，北宋王希孟青绿山水长卷的数字复刻" }),
      });
      expect(fixed).toMatchObject({ status: "draft", rejectionReason: null });
      await staff.studio.submit({ collectionId: draft.id });
      const approved = await ops.review.decide({ collectionId: draft.id, approve: true });
      expect(approved.status).toBe("approved");
      await expectAppError(ops.review.decide({ collectionId: draft.id, approve: true }), "collection.wrongState");
      expect((await verifyAuditChain(test.platform.db)).rows).toBe(6);
    });

    it("shows collectors only published collections", async () => {
      const { caller: staff, issuerId } = await issuerStaff();
      const ops = await operator();
      const media = await uploaded(issuerId);
      const draft = await staff.studio.createDraft(draftInput(media.sha256));
      await staff.studio.submit({ collectionId: draft.id });
      await ops.review.decide({ collectionId: draft.id, approve: true });
      const { caller: visitor } = await callerFor(test.platform);
      expect(await visitor.catalog.list()).toEqual([]);
      await expectAppError(visitor.catalog.get({ collectionId: draft.id }), "collection.notFound", "NOT_FOUND");
      expect(await test.platform.catalog.readMedia(test.platform.db, media.sha256, null)).toBeNull();
    });

    it("keeps each issuer to its own collections and media", async () => {
      const a = await issuerStaff();
      const b = await issuerStaff();
      const media = await uploaded(a.issuerId);
      const draft = await a.caller.studio.createDraft(draftInput(media.sha256));
      await expectAppError(b.caller.studio.get({ collectionId: draft.id }), "collection.notFound", "NOT_FOUND");
      await expectAppError(b.caller.studio.submit({ collectionId: draft.id }), "collection.notFound");
      await expectAppError(
        b.caller.studio.updateDraft({ collectionId: draft.id, draft: draftInput(media.sha256) }),
        "collection.notFound",
      );
      await expectAppError(b.caller.studio.createDraft(draftInput(media.sha256)), "media.unknown", "BAD_REQUEST");
      expect(await b.caller.studio.list()).toEqual([]);
      const bUser = {
        id: b.user.id,
        role: "issuer_staff" as const,
        issuerId: b.issuerId,
        phoneMasked: "",
        status: "active" as const,
      };
      expect(await test.platform.catalog.readMedia(test.platform.db, media.sha256, bUser)).toBeNull();
      const bytes = pngBytes("shared");
      await test.platform.catalog.registerMedia(test.platform.db, a.issuerId, bytes);
      await expect(test.platform.catalog.registerMedia(test.platform.db, b.issuerId, bytes)).rejects.toMatchObject({
        code: "media.ownedByOtherIssuer",
      });
    });

    it("refuses terms that break the platform's rules", async () => {
      const { caller: staff, issuerId } = await issuerStaff();
      const media = await uploaded(issuerId);
      await expectInputError(
        staff.studio.createDraft(draftInput(media.sha256, { lockDays: 179 })),
        "Too small: expected number to be >=180",
      );
      await expectInputError(
        staff.studio.createDraft(draftInput(media.sha256, { regiftDays: 200, lockDays: 365 })),
        "collection.regiftBelowLock",
      );
      await expectAppError(
        staff.studio.createDraft(draftInput(media.sha256, { regiftDays: 365 })),
        "collection.regiftBelowFloor",
        "BAD_REQUEST",
      );
      await expectInputError(
        staff.studio.createDraft(draftInput(media.sha256, { saleEndsAt: new Date(test.clock.now().getTime()) })),
        "collection.endBeforeStart",
      );
      await expectInputError(
        staff.studio.createDraft(draftInput(media.sha256, { perPersonLimit: 5, editionSize: 3 })),
        "collection.limitAboveEdition",
      );
      await expectInputError(
        staff.studio.createDraft(draftInput(media.sha256, { priceFen: 19.9 })),
        "Invalid input: expected int, received number",
      );
      expect(await staff.studio.list()).toEqual([]);
    });

    it("refuses a sale start in the past when drafting, submitting and publishing, changing nothing", async () => {
      const { caller: staff, issuerId } = await issuerStaff();
      const ops = await operator();
      const media = await uploaded(issuerId);
      const past = new Date(test.clock.now().getTime() - 60_000);
      await expectAppError(
        staff.studio.createDraft(draftInput(media.sha256, { saleStartsAt: past })),
        "collection.startInPast",
        "BAD_REQUEST",
      );
      expect(await staff.studio.list()).toEqual([]);

      const draft = await staff.studio.createDraft(draftInput(media.sha256));
      await expectAppError(
        staff.studio.updateDraft({ collectionId: draft.id, draft: draftInput(media.sha256, { saleStartsAt: past }) }),
        "collection.startInPast",
      );
      expect((await staff.studio.get({ collectionId: draft.id })).saleStartsAt).toEqual(draft.saleStartsAt);

      // Saved for tomorrow, submitted the day after: the start has gone, so the draft stays a draft.
      test.clock.advance(2 * DAY);
      await expectAppError(staff.studio.submit({ collectionId: draft.id }), "collection.startInPast");
      expect((await staff.studio.get({ collectionId: draft.id })).status).toBe("draft");
      await staff.studio.updateDraft({ collectionId: draft.id, draft: draftInput(media.sha256) });
      await staff.studio.submit({ collectionId: draft.id });
      await ops.review.decide({ collectionId: draft.id, approve: true });

      // Review took longer than the wait for the start: publication is refused until a new start is chosen.
      test.clock.advance(2 * DAY);
      await expectAppError(
        staff.studio.publish({ collectionId: draft.id }),
        "collection.startPassed",
        "PRECONDITION_FAILED",
      );
      const now = test.clock.now().getTime();
      await expectAppError(
        staff.studio.publish({
          collectionId: draft.id,
          window: { saleStartsAt: new Date(now - 1000), saleEndsAt: new Date(now + DAY) },
        }),
        "collection.startInPast",
      );
      await expectInputError(
        staff.studio.publish({
          collectionId: draft.id,
          window: { saleStartsAt: new Date(now + DAY), saleEndsAt: new Date(now + DAY) },
        }),
        "collection.endBeforeStart",
      );
      // A good new window passes the rules and reaches the chain (absent here), leaving the collection approved.
      await expectAppError(
        staff.studio.publish({
          collectionId: draft.id,
          window: { saleStartsAt: new Date(now + DAY), saleEndsAt: new Date(now + 2 * DAY) },
        }),
        "collection.chainUnavailable",
      );
      const after = await staff.studio.get({ collectionId: draft.id });
      expect(after.status).toBe("approved");
      expect(after.saleStartsAt.getTime()).toBe(now - 2 * DAY + DAY);
    });

    it("lets only issuer staff draft and only operators review", async () => {
      const collector = await login(test);
      await expectAppError(collector.caller.studio.list(), "auth.forbidden", "FORBIDDEN");
      await expectAppError(collector.caller.review.queue(), "auth.forbidden", "FORBIDDEN");
      const { caller: staff } = await issuerStaff();
      await expectAppError(staff.review.decide({ collectionId: 1, approve: true }), "auth.forbidden");
      await expectAppError(staff.issuer.applications({}), "auth.forbidden");
    });

    it("refuses to publish without a chain, leaving the collection approved", async () => {
      const { caller: staff, issuerId } = await issuerStaff();
      const ops = await operator();
      const media = await uploaded(issuerId);
      const draft = await staff.studio.createDraft(draftInput(media.sha256));
      await expectAppError(staff.studio.publish({ collectionId: draft.id }), "collection.wrongState");
      await staff.studio.submit({ collectionId: draft.id });
      await ops.review.decide({ collectionId: draft.id, approve: true });
      await expectAppError(
        staff.studio.publish({ collectionId: draft.id }),
        "collection.chainUnavailable",
        "SERVICE_UNAVAILABLE",
      );
      expect((await staff.studio.get({ collectionId: draft.id })).status).toBe("approved");
    });
  });
}
