/**
 * `npm run coverage`: runs the contract suite on Hardhat-instrumented
 * contracts, prints Hardhat's report (coverage/lcov.info, coverage/html) and
 * fails when a file under contracts/ has less than 95% of its lines or
 * statements covered. Hardhat 3 instruments statements, not branches: every
 * refusal (`revert`) is its own statement, so each refusal path counts.
 */
import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";

const THRESHOLD = 95;

const run = spawnSync("npx", ["vitest", "run", "--project", "contracts"], {
  stdio: "inherit",
  env: { ...process.env, HARDHAT_COVERAGE: "true" },
});
if (run.status !== 0) process.exit(run.status ?? 1);

const lcov = await readFile("coverage/lcov.info", "utf8");
const files: Record<string, { lines: number; covered: number; percent: number }> = {};
for (const record of lcov.split("end_of_record")) {
  const file = /^SF:(.+)$/m.exec(record)?.[1];
  if (file === undefined) continue;
  const hits = [...record.matchAll(/^DA:\d+,(\d+)/gm)].map((m) => Number(m[1]));
  const covered = hits.filter((h) => h > 0).length;
  files[file] = { lines: hits.length, covered, percent: hits.length === 0 ? 100 : (100 * covered) / hits.length };
}
await writeFile("coverage/summary.json", `${JSON.stringify({ threshold: THRESHOLD, files }, null, 2)}\n`);

const below = Object.entries(files).filter(([, f]) => f.percent < THRESHOLD);
if (Object.keys(files).length === 0 || below.length > 0) {
  console.error(`Line coverage below ${THRESHOLD}%:`, below.length > 0 ? below : "no files reported");
  process.exit(1);
}
console.log(`Line coverage of every contract ≥ ${THRESHOLD}%.`);
