import { describe, expect, it } from "vitest";

import {
  ageOn,
  checkCharacter,
  isValidName,
  maskIdNumber,
  maskName,
  normaliseName,
  parseIdNumber,
} from "../../server/modules/kyc/id-number.js";
import { makeIdNumber } from "./helpers.js";

const NOW = new Date("2026-11-24T02:00:00Z"); // 24 November 2026, 10:00 in Beijing

describe("mainland ID numbers (GB 11643)", () => {
  it("accepts real-format numbers and normalises a lower-case x", () => {
    // The standard's own example: 11010519491231002X.
    expect(parseIdNumber("11010519491231002X", NOW)).toEqual({
      ok: true,
      value: { normalised: "11010519491231002X", birthDate: { year: 1949, month: 12, day: 31 } },
    });
    const lower = parseIdNumber("11010519491231002x", NOW);
    expect(lower.ok && lower.value.normalised).toBe("11010519491231002X");
    expect(parseIdNumber(` ${makeIdNumber("19800101", "440524", "001")} `, NOW).ok).toBe(true);
  });

  it("computes the ISO 7064 MOD 11-2 check character, including X", () => {
    expect(checkCharacter("11010519491231002")).toBe("X");
    expect(checkCharacter("44052418800101001")).toBe("4");
  });

  it("refuses a wrong check character", () => {
    expect(parseIdNumber("110105194912310021", NOW)).toEqual({ ok: false, code: "kyc.idNumber.checksum" });
  });

  it("refuses wrong formats", () => {
    for (const input of ["", "1101051949123100", "11010519491231002Y", "X10105194912310021", "1101051949123100211"]) {
      expect(parseIdNumber(input, NOW)).toEqual({ ok: false, code: "kyc.idNumber.format" });
    }
  });

  it("refuses an unknown province code", () => {
    expect(parseIdNumber(makeIdNumber("19900101", "990101"), NOW)).toEqual({
      ok: false,
      code: "kyc.idNumber.province",
    });
    expect(parseIdNumber(makeIdNumber("19900101", "010101"), NOW)).toEqual({
      ok: false,
      code: "kyc.idNumber.province",
    });
  });

  it("accepts 29 February in a leap year and refuses it in a common year", () => {
    expect(parseIdNumber(makeIdNumber("20000229"), NOW).ok).toBe(true);
    expect(parseIdNumber(makeIdNumber("20010229"), NOW)).toEqual({ ok: false, code: "kyc.idNumber.birthDate" });
    expect(parseIdNumber(makeIdNumber("19001301"), NOW)).toEqual({ ok: false, code: "kyc.idNumber.birthDate" });
    expect(parseIdNumber(makeIdNumber("18991231"), NOW)).toEqual({ ok: false, code: "kyc.idNumber.birthDate" });
  });

  it("refuses a birth date in the future (China time)", () => {
    expect(parseIdNumber(makeIdNumber("20261125"), NOW)).toEqual({ ok: false, code: "kyc.idNumber.futureBirthDate" });
    // 23:30 UTC on 23 November is already 24 November in Beijing.
    expect(parseIdNumber(makeIdNumber("20261124"), new Date("2026-11-23T23:30:00Z")).ok).toBe(true);
  });
});

describe("age", () => {
  it("turns 18 on the 18th birthday, not a day before", () => {
    expect(ageOn({ year: 2008, month: 11, day: 24 }, NOW)).toBe(18);
    expect(ageOn({ year: 2008, month: 11, day: 25 }, NOW)).toBe(17);
  });

  it("counts someone born on 29 February a year older on 1 March of a common year", () => {
    const born = { year: 2008, month: 2, day: 29 };
    expect(ageOn(born, new Date("2026-02-28T12:00:00Z"))).toBe(17);
    expect(ageOn(born, new Date("2026-03-01T12:00:00Z"))).toBe(18);
  });
});

describe("names and masks", () => {
  it("accepts Han names with a middle dot and refuses others", () => {
    expect(isValidName(normaliseName("张三"))).toBe(true);
    expect(isValidName(normaliseName("阿依古丽·买买提"))).toBe(true);
    expect(isValidName(normaliseName("阿依古丽.买买提"))).toBe(true);
    for (const bad of ["张", "Zhang San", "张三1", "·张三", "张三·", "张".repeat(31)]) {
      expect(isValidName(normaliseName(bad))).toBe(false);
    }
  });

  it("masks names and ID numbers the way the UI shows them", () => {
    expect(maskName("张三")).toBe("张*");
    expect(maskName("欧阳娜娜")).toBe("欧***");
    expect(maskIdNumber("11010519491231002X")).toBe("1101**********002X");
  });
});
