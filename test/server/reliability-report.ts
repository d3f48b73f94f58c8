import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

const REPORT = path.join("bench", "results", "reliability.json");

/**
 * Records one suite's figures under its own section of
 * bench/results/reliability.json, keeping the other suites' sections
 * (read right before writing, written through a rename so a reader never
 * sees half a file).
 */
export function recordFigures(section: string, figures: Record<string, unknown>) {
  mkdirSync(path.dirname(REPORT), { recursive: true });
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(readFileSync(REPORT, "utf8")) as Record<string, unknown>;
  } catch {
    // first suite to report
  }
  report[section] = { ...figures, recordedAt: new Date().toISOString() };
  const temporary = `${REPORT}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(temporary, REPORT);
}
