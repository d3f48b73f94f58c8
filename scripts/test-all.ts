/**
 * `npm test`: every suite, one after the other — the vitest projects
 * (contracts, server, web, e2e) and Hardhat's Solidity tests — then one
 * summary line with the totals. Exits non-zero when anything failed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  success: boolean;
}

const reportFile = path.join(mkdtempSync(path.join(tmpdir(), "shuzang-test-")), "vitest.json");
const vitest = spawnSync(
  "npx",
  ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${reportFile}`],
  { stdio: "inherit" },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(reportFile, "utf8")) as VitestReport;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests;
} catch {
  failed += 1;
}

const solidity = spawnSync("npx", ["hardhat", "test", "solidity"], { encoding: "utf8" });
process.stdout.write(solidity.stdout);
process.stderr.write(solidity.stderr);
passed += Number(/(\d+) passing/.exec(solidity.stdout)?.[1] ?? 0);
failed += Number(/(\d+) failing/.exec(solidity.stdout)?.[1] ?? 0);

const ok = vitest.status === 0 && solidity.status === 0 && failed === 0;
console.log(
  `\nsuites: vitest ${vitest.status === 0 ? "ok" : "FAILED"}, solidity ${solidity.status === 0 ? "ok" : "FAILED"}`,
);
console.log(`${passed} passed, ${ok ? failed : Math.max(failed, 1)} failed, ${skipped} skipped`);
process.exit(ok ? 0 : 1);
