import { describe, expect, it } from "vitest";

import { safe } from "../../shared/validation";
import { type ServerIssue, describeIssue, describeIssues } from "../../web/src/lib/field-errors";

const RAW = /无效输入|期望|实际接收|Too small|expected|Invalid input/;

describe("plain field errors", () => {
  it("says a number's limit with the field's label and unit", () => {
    const issue = {
      path: ["draft", "lockDays"],
      code: "input.too_small",
      zh: "数值过小：期望 number >=180",
      en: "Too small: expected number to be >=180",
      params: { minimum: 180, inclusive: true, origin: "number" },
    };
    expect(describeIssue("lockDays", issue, "zh-CN")).toBe("锁定期不得少于 180 天");
    expect(describeIssue("lockDays", issue, "en")).toBe("Lock period must be at least 180 days");
    expect(describeIssues([issue], "zh-CN")).toEqual({ lockDays: "锁定期不得少于 180 天" });
  });

  it("never shows zod's own words for missing numbers, empty text or too-long text", () => {
    const raw = { zh: "无效输入：期望 数字，实际接收 undefined", en: "Invalid input" };
    const issue = (field: string, code: string, params: ServerIssue["params"]): ServerIssue => ({
      path: [field],
      code,
      params,
      ...raw,
    });
    const cases = [
      issue("editionSize", "input.invalid_type", { expected: "number" }),
      issue("title", "input.too_small", { minimum: 1, origin: "string" }),
      issue("story", "input.too_big", { maximum: 5000, origin: "string" }),
      issue("priceFen", "input.too_big", { maximum: 100_000_000, origin: "number" }),
      issue("somethingNew", "input.custom", {}),
    ];
    const zh = describeIssues(cases, "zh-CN");
    expect(zh).toEqual({
      editionSize: "请为发行量填写一个数字",
      title: "请填写藏品名称",
      story: "作品故事最多 5000 个字",
      priceFen: "价格不得超过 ¥1000000.00",
      somethingNew: "该项填写有误",
    });
    for (const language of ["zh-CN", "en"]) {
      for (const message of Object.values(describeIssues(cases, language))) expect(message).not.toMatch(RAW);
    }
  });

  it("keeps the platform's own rule messages, which already name the rule", () => {
    const issue = {
      path: ["draft", "saleEndsAt"],
      code: "collection.endBeforeStart",
      zh: "结束时间须晚于开售时间",
      en: "The sale must end after it starts",
    };
    expect(describeIssues([issue], "zh-CN")).toEqual({ saleEndsAt: "结束时间须晚于开售时间" });
  });

  it("says the hostile-text and date refusals of the shared primitives with the field's label", () => {
    const refusal = (
      schema: { safeParse(value: unknown): { error?: { issues: { message: string }[] } } },
      value: unknown,
    ) => {
      const code = schema.safeParse(value).error!.issues[0]!.message;
      return { path: ["x"], code, zh: "—", en: "—" };
    };
    const title = safe.text({ max: 60 });
    expect(describeIssue("title", refusal(title, "藏品\u0000"), "zh-CN")).toBe("藏品名称不能包含控制字符");
    expect(describeIssue("title", refusal(title, "藏品\u202e"), "en")).toBe("Title may not contain control characters");
    expect(describeIssue("reason", refusal(title, "原因\ud800"), "zh-CN")).toBe("原因包含无法识别的字符");
    expect(describeIssue("saleStartsAt", refusal(safe.date(), -8.64e15), "zh-CN")).toBe(
      "开售时间须在 2000 年至 2099 年之间",
    );
    expect(describeIssue("saleEndsAt", refusal(safe.date(), "2100-01-01T00:00:00Z"), "en")).toBe(
      "Sale end must fall between 2000 and 2099",
    );
  });
});
