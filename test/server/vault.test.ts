import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { Sealer } from "../../server/security/crypto.js";

describe("PII sealing (AES-256-GCM with key ids)", () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it("seals to ciphertext that names its key and opens back", () => {
    const sealer = new Sealer(new Map([["k1", k1]]), "k1");
    const sealed = sealer.seal("张三", "kyc.name:1");
    expect(sealed).not.toContain("张三");
    expect(Sealer.keyIdOf(sealed)).toBe("k1");
    expect(sealer.open(sealed, "kyc.name:1")).toBe("张三");
    expect(sealer.seal("张三", "kyc.name:1")).not.toBe(sealed);
  });

  it("rotates keys: new values use the active key, old values still open", () => {
    const before = new Sealer(new Map([["k1", k1]]), "k1").seal("11010519491231002X", "kyc.idNumber:7");
    const rotated = new Sealer(
      new Map([
        ["k1", k1],
        ["k2", k2],
      ]),
      "k2",
    );
    expect(rotated.open(before, "kyc.idNumber:7")).toBe("11010519491231002X");
    expect(Sealer.keyIdOf(rotated.seal("x", "c"))).toBe("k2");
  });

  it("refuses an altered ciphertext, another record's context and an unknown key", () => {
    const sealer = new Sealer(new Map([["k1", k1]]), "k1");
    const sealed = sealer.seal("张三", "kyc.name:1");
    const parts = sealed.split(".");
    const body = Buffer.from(parts[4]!, "base64url");
    body[0] = body[0]! ^ 1;
    parts[4] = body.toString("base64url");
    expect(() => sealer.open(parts.join("."), "kyc.name:1")).toThrow();
    expect(() => sealer.open(sealed, "kyc.name:2")).toThrow();
    expect(() => new Sealer(new Map([["k2", k2]]), "k2").open(sealed, "kyc.name:1")).toThrow(/unknown format or key/);
  });
});
