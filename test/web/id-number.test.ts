import { describe, expect, it } from "vitest";

import { idNumberHint } from "../../web/src/lib/id-number";

const today = new Date("2026-11-24T00:00:00Z");

describe("inline ID number hints", () => {
  it("accepts a valid number of an adult, with X as check character in either case", () => {
    expect(idNumberHint("11010519491231002X", today)).toBe("ok");
    expect(idNumberHint("11010519491231002x", today)).toBe("ok");
  });

  it("waits while the number is being typed, but flags letters at once", () => {
    expect(idNumberHint("1101051949", today)).toBe("incomplete");
    expect(idNumberHint("11010A", today)).toBe("format");
  });

  it("names a wrong check character, an impossible birth date and an under-age holder", () => {
    expect(idNumberHint("110105194912310021", today)).toBe("checksum");
    expect(idNumberHint("110105194902300021", today)).toBe("birthDate");
    expect(idNumberHint("110105203001010021", today)).toBe("birthDate");
    // Born 2010-06-01: 16 on the test date.
    const first17 = "11010520100601002";
    const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const sum = weights.reduce((acc, w, i) => acc + w * Number(first17[i]), 0);
    expect(idNumberHint(first17 + "10X98765432"[sum % 11], today)).toBe("underage");
  });
});
