import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// One runner for every suite; each suite is a project so it can run alone
// (`vitest run --project contracts`). Suites without files yet pass empty.
export default defineConfig({
  test: {
    passWithNoTests: true,
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
      {
        test: {
          name: "server",
          include: ["test/server/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/server/global.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [react()],
        test: {
          name: "web",
          include: ["test/web/**/*.test.{ts,tsx}"],
          environment: "jsdom",
          setupFiles: ["test/web/setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        // Fault suites (`npm run test:chaos`): real processes killed and cut off; long, so one file at a time.
        test: {
          name: "chaos",
          include: ["test/chaos/**/*.test.ts"],
          environment: "node",
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          // Each file starts its own `npm start` (chain, deployment, build): one at a time, beside the other suites.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 400_000,
        },
      },
    ],
  },
});
