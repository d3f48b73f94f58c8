import { defineConfig } from "vitest/config";

// One runner for every suite; each suite is a project so it can run alone
// (`vitest run --project contracts`).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "contracts",
          include: ["test/contracts/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/contracts/coverage.global.ts"],
          setupFiles: ["test/contracts/coverage.setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
