import { COVERAGE_RUN_ID } from "./coverage-id.js";

/**
 * Under `npm run coverage` (HARDHAT_COVERAGE=true), builds the instrumented
 * contracts before the suite and writes Hardhat's coverage report after it.
 * Otherwise it only makes sure the artifacts are up to date.
 */
export async function setup(): Promise<void> {
  const { default: hre } = await import("hardhat");
  await hre.tasks.getTask("build").run({ quiet: true });
  if (process.env.HARDHAT_COVERAGE === "true") {
    const { markTestRunStart } = await import("hardhat/internal/coverage");
    await markTestRunStart(COVERAGE_RUN_ID);
  }
}

export async function teardown(): Promise<void> {
  if (process.env.HARDHAT_COVERAGE === "true") {
    const { markTestRunDone } = await import("hardhat/internal/coverage");
    await markTestRunDone(COVERAGE_RUN_ID);
  }
}
