import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { GetObjectCommand } from "@aws-sdk/client-s3";
import S3rver from "@20minutes/s3rver";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ConfigError } from "../../server/config.js";
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, buildHttpApp } from "../../server/http/app.js";
import { createS3MediaStore, sha256Hex } from "../../server/modules/catalog/media.js";
import { mediaStoreFor } from "../../server/platform.js";
import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  login,
  pngBytes,
  promote,
  testConfig,
} from "./helpers.js";

const [pglite] = databasesUnderTest();
const BUCKET = "artwork";

describe("S3-compatible media store against an in-process S3 server", () => {
  let s3: S3rver;
  let env: Record<string, string>;
  let test: TestPlatform;
  let app: FastifyInstance;
  let origin: string;

  beforeAll(async () => {
    s3 = new S3rver({
      port: 0,
      address: "127.0.0.1",
      silent: true,
      directory: mkdtempSync(path.join(tmpdir(), "shuzang-s3-")),
      configureBuckets: [{ name: BUCKET }],
    });
    const { port } = await s3.run();
    env = {
      MEDIA_STORE: "s3",
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_BUCKET: BUCKET,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      S3_FORCE_PATH_STYLE: "true",
    };
    const config = testConfig(env);
    test = await createTestPlatform(pglite!, { env, overrides: { mediaStore: mediaStoreFor(config) } });
    app = await buildHttpApp(test.platform, { logger: false });
    await app.listen({ port: 0, host: "127.0.0.1" });
    origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await test?.close();
    await s3?.close();
  });

  it("stores an upload from the real /media route under its sha256 in the bucket and serves it back", async () => {
    const person = await login(test);
    await promote(test.platform, person.user.id, "issuer_staff");
    const csrf = "test-csrf-token-value";
    const headers = { cookie: `${SESSION_COOKIE}=${person.token}; ${CSRF_COOKIE}=${csrf}`, [CSRF_HEADER]: csrf };
    const png = pngBytes();
    const uploaded = await fetch(`${origin}/media`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/octet-stream" },
      body: png,
    });
    expect(uploaded.status).toBe(200);
    const { sha256, mimeType } = (await uploaded.json()) as { sha256: string; mimeType: string };
    expect(sha256).toBe(sha256Hex(png));
    expect(mimeType).toBe("image/png");

    const store = createS3MediaStore({
      endpoint: env.S3_ENDPOINT,
      bucket: BUCKET,
      region: "us-east-1",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      forcePathStyle: true,
    });
    const object = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: sha256 }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(Buffer.from(png))).toBe(true);
    expect(await store.get("0".repeat(64))).toBeNull();

    const served = await fetch(`${origin}/media/${sha256}`, { headers: { cookie: headers.cookie } });
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(served.headers.get("x-content-type-options")).toBe("nosniff");
    expect(served.headers.get("x-content-sha256")).toBe(sha256);
    expect(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(png))).toBe(true);
  });

  it("refuses MEDIA_STORE=s3 at start naming each missing setting", () => {
    let problem: unknown;
    try {
      testConfig({ MEDIA_STORE: "s3", S3_BUCKET: BUCKET });
    } catch (error) {
      problem = error;
    }
    expect(problem).toBeInstanceOf(ConfigError);
    const message = (problem as ConfigError).message;
    for (const name of ["S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]) expect(message).toContain(name);
    expect(message).not.toContain("S3_BUCKET");
  });
});
