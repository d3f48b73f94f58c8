/**
 * `npm test`: every suite, one after the other — the vitest projects
 * (contracts, server, web, e2e), Hardhat's Solidity tests, then the fault
 * suites (the chaos project: processes killed, the chain cut off; they need
 * the machine to themselves, so they run last and alone) — then one summary
 * line with the totals. Exits non-zero when anything failed.
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

const reports = mkdtempSync(path.join(tmpdir(), "shuzang-test-"));
let passed = 0;
let failed = 0;
let skipped = 0;

/** Runs vitest on `projects`, adds its counts to the totals; true when it passed. */
function runVitest(name: string, projects: string[]): boolean {
  const reportFile = path.join(reports, `${name}.json`);
  const run = spawnSync(
    "npx",
    [
      "vitest",
      "run",
      ...projects.flatMap((project) => ["--project", project]),
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${reportFile}`,
    ],
    { stdio: "inherit" },
  );
  try {
    const report = JSON.parse(readFileSync(reportFile, "utf8")) as VitestReport;
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests;
  } catch {
    failed += 1;
  }
  return run.status === 0;
}

const vitestOk = runVitest("suites", ["contracts", "server", "web", "e2e"]);

const solidity = spawnSync("npx", ["hardhat", "test", "solidity"], { encoding: "utf8" });
process.stdout.write(solidity.stdout);
process.stderr.write(solidity.stderr);
passed += Number(/(\d+) passing/.exec(solidity.stdout)?.[1] ?? 0);
failed += Number(/(\d+) failing/.exec(solidity.stdout)?.[1] ?? 0);

const chaosOk = runVitest("chaos", ["chaos"]);

const ok = vitestOk && solidity.status === 0 && chaosOk && failed === 0;
const verdict = (good: boolean) => (good ? "ok" : "FAILED");
console.log(
  `\nsuites: vitest ${verdict(vitestOk)}, solidity ${verdict(solidity.status === 0)}, chaos ${verdict(chaosOk)}`,
);
console.log(`${passed} passed, ${ok ? failed : Math.max(failed, 1)} failed, ${skipped} skipped`);
process.exit(ok ? 0 : 1);
