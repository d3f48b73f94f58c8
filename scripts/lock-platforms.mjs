// Keeps package-lock.json installable with `npm ci` everywhere. The registry
// this project is built against does not serve Hardhat EDR's binaries for
// other platforms, so npm leaves them out of the lock file and `npm ci` then
// refuses the lock as incomplete. This adds their entries (platform-guarded
// optional packages that npm skips on other machines). Runs after every install.
import { readFileSync, writeFileSync } from "node:fs";

const LOCK = new URL("../package-lock.json", import.meta.url);
const PLATFORMS = {
  "darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "linux-arm64-gnu": { os: ["linux"], cpu: ["arm64"], libc: ["glibc"] },
  "linux-arm64-musl": { os: ["linux"], cpu: ["arm64"], libc: ["musl"] },
  "linux-x64-gnu": { os: ["linux"], cpu: ["x64"], libc: ["glibc"] },
  "linux-x64-musl": { os: ["linux"], cpu: ["x64"], libc: ["musl"] },
  "win32-x64-msvc": { os: ["win32"], cpu: ["x64"] },
};

let lock;
try {
  lock = JSON.parse(readFileSync(LOCK, "utf8"));
} catch {
  process.exit(0);
}
const packages = lock.packages ?? {};
const edr = packages["node_modules/@nomicfoundation/edr"];
if (edr === undefined) process.exit(0);

let added = 0;
for (const [platform, guard] of Object.entries(PLATFORMS)) {
  const key = `node_modules/@nomicfoundation/edr-${platform}`;
  if (packages[key] !== undefined) continue;
  packages[key] = { version: edr.version, dev: true, license: "MIT", optional: true, ...guard, engines: edr.engines };
  added++;
}
if (added > 0) {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
  );
  writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
}
