/** The id under which the contract suite files its coverage data with Hardhat. */
export const COVERAGE_RUN_ID = "vitest-contracts";
