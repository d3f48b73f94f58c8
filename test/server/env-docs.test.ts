import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import {
  ENV_EXAMPLE,
  OPERATIONS_DOC,
  envExample,
  environmentTable,
  settings,
  withTable,
} from "../../scripts/env-docs.js";

/** The operator's documentation of settings is generated from server/config.ts and cannot drift from it. */
describe("environment documentation", () => {
  it("describes every setting of server/config.ts", () => {
    const undocumented = settings()
      .filter((setting) => setting.description === "")
      .map((setting) => setting.name);
    expect(undocumented).toEqual([]);
  });

  it("docs/operations.md and .env.example are what npm run docs:env writes", async () => {
    const doc = readFileSync(OPERATIONS_DOC, "utf8");
    expect(doc).toBe(await withTable(doc, environmentTable()));
    expect(readFileSync(ENV_EXAMPLE, "utf8")).toBe(envExample());
  });

  it("names every variable in both, with its default", () => {
    const doc = readFileSync(OPERATIONS_DOC, "utf8");
    const example = readFileSync(ENV_EXAMPLE, "utf8");
    for (const setting of settings()) {
      expect(doc).toContain(`\`${setting.name}\``);
      expect(example).toContain(`# ${setting.name}=`);
    }
    expect(example).toContain("# GIFT_DAILY_CAP=3");
    expect(example).toContain("# MINT_BATCH_SIZE=200");
  });
});
