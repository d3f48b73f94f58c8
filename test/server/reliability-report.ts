import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const REPORT = path.join("bench", "results", "reliability.json");
const LOCK = `${REPORT}.lock`;
/** A lock older than this was left by a writer that died; nobody holds it for more than a few milliseconds. */
const STALE_LOCK_MS = 10_000;

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `action` while holding the report's lock file, so suites in other processes wait their turn. */
function withLock(action: () => void) {
  for (;;) {
    try {
      closeSync(openSync(LOCK, "wx"));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { force: true });
      } catch {
        // released between the two calls
      }
      sleepSync(5);
    }
  }
  try {
    action();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

/** The commit the figures were measured on ("+uncommitted" when the tree differs), or "unknown" outside git. */
function measuredCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim();
    return dirty === "" ? head : `${head}+uncommitted`;
  } catch {
    return "unknown";
  }
}

/**
 * Records one suite's figures under its own section of
 * bench/results/reliability.json, keeping the other suites' sections. Suites
 * run in parallel processes: the read-modify-write happens under a lock file,
 * and the file is replaced through a rename so a reader never sees half of it.
 */
export function recordFigures(section: string, figures: Record<string, unknown>) {
  mkdirSync(path.dirname(REPORT), { recursive: true });
  withLock(() => {
    let report: Record<string, unknown> = {};
    try {
      report = JSON.parse(readFileSync(REPORT, "utf8")) as Record<string, unknown>;
    } catch {
      // first suite to report
    }
    report[section] = {
      ...figures,
      commit: measuredCommit(),
      cores: os.cpus().length,
      recordedAt: new Date().toISOString(),
    };
    const temporary = `${REPORT}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(temporary, REPORT);
  });
}
