import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createChain } from "../../server/chain/client.js";
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, buildHttpApp } from "../../server/http/app.js";
import { deployChain } from "./chain.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  login,
  pngBytes,
  promote,
  testConfig,
} from "./helpers.js";

const [pglite] = databasesUnderTest();
const DAY = 86_400_000;

describe("publishing and artwork over HTTP", () => {
  let test: TestPlatform;
  let app: FastifyInstance;
  let setup: Awaited<ReturnType<typeof deployChain>>;

  beforeEach(async () => {
    const config = testConfig();
    setup = await deployChain(config.secrets.walletMnemonic);
    const chain = createChain({ ...setup, confirmations: 1, gasPrice: 0n });
    test = await createTestPlatform(pglite!, {
      env: { WALLET_MNEMONIC: config.secrets.walletMnemonic, MEDIA_MAX_BYTES: "4096" },
      overrides: { chain, custody: setup.custody },
    });
    app = await buildHttpApp(test.platform, { logger: false });
  });
  afterEach(async () => {
    await app.close();
    await test.close();
  });

  async function staffSession() {
    const person = await login(test);
    const issuerId = await promote(test.platform, person.user.id, "issuer_staff");
    const csrf = "test-csrf-token-value";
    const cookie = `${SESSION_COOKIE}=${person.token}; ${CSRF_COOKIE}=${csrf}`;
    return { person, issuerId: issuerId!, headers: { cookie, [CSRF_HEADER]: csrf } };
  }

  it("uploads artwork judged by content, refuses lying and oversized files, and serves it only to its issuer until published", async () => {
    const { headers, person, issuerId } = await staffSession();
    const png = pngBytes();
    const uploaded = await app.inject({
      method: "POST",
      url: "/media",
      headers: { ...headers, "content-type": "text/plain" },
      payload: png,
    });
    expect(uploaded.statusCode).toBe(200);
    const { sha256, mimeType } = uploaded.json();
    expect(mimeType).toBe("image/png");

    const lying = await app.inject({
      method: "POST",
      url: "/media",
      headers: { ...headers, "content-type": "image/png" },
      payload: Buffer.from("<html>not an image</html>"),
    });
    expect(lying.statusCode).toBe(415);
    expect(lying.json().error.appCode).toBe("media.unsupportedType");
    const huge = await app.inject({
      method: "POST",
      url: "/media",
      headers: { ...headers, "content-type": "image/png" },
      payload: Buffer.alloc(5000),
    });
    expect(huge.statusCode).toBe(413);
    const noCsrf = await app.inject({
      method: "POST",
      url: "/media",
      headers: { cookie: headers.cookie, "content-type": "image/png" },
      payload: png,
    });
    expect(noCsrf.statusCode).toBe(403);

    expect((await app.inject({ url: `/media/${sha256}` })).statusCode).toBe(404);
    const own = await app.inject({ url: `/media/${sha256}`, headers: { cookie: headers.cookie } });
    expect(own.statusCode).toBe(200);
    expect(own.headers["content-type"]).toBe("image/png");
    expect(own.rawPayload.equals(png)).toBe(true);
    expect(person.user.id).toBeGreaterThan(0);
    expect(issuerId).toBeGreaterThan(0);
  });

  it("publishes an approved collection through the factory with its media hash, then shows it to collectors", async () => {
    const { person, issuerId, headers } = await staffSession();
    const png = pngBytes();
    const { sha256 } = (
      await app.inject({
        method: "POST",
        url: "/media",
        headers: { ...headers, "content-type": "application/octet-stream" },
        payload: png,
      })
    ).json();
    const { caller: staff } = await callerFor(test.platform, { token: person.token });
    const now = test.clock.now().getTime();
    const draft = await staff.studio.createDraft({
      title: "千里江山图·局部",
      description: "数字复刻",
      creator: "王希孟",
      story: "长卷的故事",
      mediaSha256: sha256,
      editionSize: 500,
      priceFen: 1990,
      saleStartsAt: new Date(now + 60_000),
      saleEndsAt: new Date(now + DAY),
      perPersonLimit: 2,
      lockDays: 200,
      regiftDays: 800,
    });
    await staff.studio.submit({ collectionId: draft.id });
    const operator = await login(test);
    await promote(test.platform, operator.user.id, "operator");
    await (
      await callerFor(test.platform, { token: operator.token })
    ).caller.review.decide({ collectionId: draft.id, approve: true });

    const published = await staff.studio.publish({ collectionId: draft.id });
    test.clock.advance(60_000);
    expect(published.status).toBe("published");
    expect(published.contractAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);

    const contract = test.platform.chain!.collection(published.contractAddress!);
    expect(await contract.contentHash()).toBe(`0x${sha256}`);
    expect(await contract.maxSupply()).toBe(500n);
    expect(await contract.lockPeriod()).toBe(200n * 86_400n);
    expect(await contract.regiftPeriod()).toBe(800n * 86_400n);
    expect(await contract.issuer()).toBe(setup.custody.issuerAddress(issuerId));
    expect(await contract.minter()).toBe(setup.custody.platformAddress("minter"));
    expect(await test.platform.chain!.factory.isCollection(published.contractAddress!)).toBe(true);

    const { caller: visitor } = await callerFor(test.platform);
    const [listed] = await visitor.catalog.list();
    expect(listed).toMatchObject({
      id: draft.id,
      title: "千里江山图·局部",
      issuerName: "测试博物馆",
      saleState: "on_sale",
      priceFen: 1990,
    });
    expect(await visitor.drops.stock({ collectionId: draft.id })).toEqual({
      editionSize: 500,
      available: 500,
      reserved: 0,
      sold: 0,
    });
    const media = await app.inject({ url: `/media/${sha256}` });
    expect(media.statusCode).toBe(200);
    expect(media.headers["x-content-sha256"]).toBe(sha256);
  });

  it("publishes with a new sale window when the approved start passed during review, audited", async () => {
    const { person, issuerId } = await staffSession();
    const { sha256 } = await test.platform.catalog.registerMedia(test.platform.db, issuerId, pngBytes());
    const { caller: staff } = await callerFor(test.platform, { token: person.token });
    const start = test.clock.now().getTime() + DAY;
    const draft = await staff.studio.createDraft({
      title: "溪山行旅图",
      description: "d",
      creator: "范宽",
      story: "s",
      mediaSha256: sha256,
      editionSize: 10,
      priceFen: 990,
      saleStartsAt: new Date(start),
      saleEndsAt: new Date(start + DAY),
      perPersonLimit: 1,
      lockDays: 180,
      regiftDays: 730,
    });
    await staff.studio.submit({ collectionId: draft.id });
    const operator = await login(test);
    await promote(test.platform, operator.user.id, "operator");
    const { caller: ops } = await callerFor(test.platform, { token: operator.token });
    await ops.review.decide({ collectionId: draft.id, approve: true });
    test.clock.advance(2 * DAY);
    await expect(staff.studio.publish({ collectionId: draft.id })).rejects.toMatchObject({
      cause: { code: "collection.startPassed" },
    });
    expect(await test.platform.chain!.factory.collectionCount()).toBe(0n);

    const now = test.clock.now().getTime();
    const window = { saleStartsAt: new Date(now + 3_600_000), saleEndsAt: new Date(now + 3 * DAY) };
    const published = await staff.studio.publish({ collectionId: draft.id, window });
    expect(published).toMatchObject({ status: "published", ...window });
    const [entry] = await ops.audit.recent({ limit: 1, action: "collection.published" });
    expect(entry!.details).toMatchObject({
      saleStartsAt: window.saleStartsAt.toISOString(),
      saleEndsAt: window.saleEndsAt.toISOString(),
    });
  });
});
