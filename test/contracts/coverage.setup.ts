import { afterAll } from "vitest";

import { COVERAGE_RUN_ID } from "./coverage-id.js";

// When `npm run coverage` runs this suite, each test file's Hardhat runtime
// collects which contract statements ran; hand them to Hardhat's coverage store.
if (process.env.HARDHAT_COVERAGE === "true") {
  afterAll(async () => {
    const { markTestWorkerDone } = await import("hardhat/internal/coverage");
    await markTestWorkerDone(COVERAGE_RUN_ID);
  });
}
