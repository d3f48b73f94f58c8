/**
 * `npm run remixd [-- --remix-ide URL] [--compiler-port N]`: shares
 * `contracts/` with Remix IDE through remixd's folder service (ws on
 * 127.0.0.1:65520), without the network calls of remixd's own command line,
 * which crashes offline (its npm update check fails with EAI_AGAIN before
 * anything starts) and fetches its list of allowed origins from a gist.
 *
 * Beside the contracts it shares, read-only, the installed OpenZeppelin
 * packages as `node_modules/@openzeppelin/…` (remixd itself refuses symbolic
 * links), which `contracts/compiler_config.json` maps `@openzeppelin/` to; and
 * it serves the project's own compiler, solc-js 0.8.37 from the `solc` package,
 * at http://127.0.0.1:<compiler port>/soljson.js for Remix's "custom compiler"
 * on a machine that cannot download compilers. Guide: docs/remix.md.
 */
import { readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);

interface RemixdClient {
  setWebSocket(ws: unknown): void;
  setupNotifications(folder: string): void;
  sharedFolder(folder: string): void;
  resolveDirectory(args: { path: string }): Record<string, { isDirectory: boolean }>;
  get(args: { path: string }): Promise<{ content: string; readonly: boolean }>;
  exists(args: { path: string }): boolean;
  isFile(args: { path: string }): boolean;
  isDirectory(args: { path: string }): boolean;
  set(args: { path: string; content: string }): Promise<boolean>;
  createDir(args: { path: string }): Promise<boolean>;
  remove(args: { path: string }): Promise<boolean>;
  rename(args: { oldPath: string; newPath: string }): Promise<boolean>;
}
type Callback = (ws: unknown, client: RemixdClient, error?: NodeJS.ErrnoException) => void;
interface RemixdModule {
  Websocket: new (
    port: number,
    options: { remixIdeUrl?: string },
    client: () => RemixdClient,
  ) => {
    start(callback: Callback): void;
    close(): void;
  };
  services: { sharedFolder: new (readOnly: boolean) => RemixdClient };
}

// The package's "main" points at a file it does not ship; its code is under src/.
const remixd = require("@remix-project/remixd/src/index.js") as RemixdModule;

const { values } = parseArgs({
  options: {
    "remix-ide": { type: "string", default: "https://remix.ethereum.org" },
    "compiler-port": { type: "string", default: "65510" },
    folder: { type: "string", default: "contracts" },
  },
});
const remixIdeUrl = values["remix-ide"]!.replace(/\/$/, "");
const sharedFolder = realpathSync(values.folder!);
const FOLDER_PORT = 65520; // the port Remix IDE connects to for "localhost"

/** Shared read-only under this virtual folder: the installed OpenZeppelin packages. */
const OVERLAY = "node_modules/@openzeppelin";
const overlayRoot = realpathSync(path.dirname(require.resolve("@openzeppelin/contracts/package.json")) + "/..");
const readOnlyError = () => new Error(`${OVERLAY} is the installed OpenZeppelin, shared read-only`);

/** `node_modules/@openzeppelin/x` → the real file, null outside the overlay; refuses a way out of it. */
function overlayPath(remixPath: string): string | null {
  const relative = remixPath.replace(/^(\.\/|\/)+/, "");
  if (relative !== OVERLAY && !relative.startsWith(`${OVERLAY}/`)) return null;
  const real = path.resolve(overlayRoot, relative.slice(OVERLAY.length + 1));
  if (real !== overlayRoot && !real.startsWith(overlayRoot + path.sep)) throw new Error("path outside the share");
  return real;
}
const isRoot = (remixPath: string) => ["", "/", ".", "./"].includes(remixPath);
const isNodeModules = (remixPath: string) => remixPath.replace(/^(\.\/|\/)+/, "").replace(/\/$/, "") === "node_modules";

class SharedWithOpenZeppelin extends remixd.services.sharedFolder {
  override resolveDirectory(args: { path: string }) {
    if (isNodeModules(args.path)) return { [OVERLAY]: { isDirectory: true } };
    const real = overlayPath(args.path);
    if (real === null) {
      const listing = super.resolveDirectory(args);
      return isRoot(args.path) ? { ...listing, node_modules: { isDirectory: true } } : listing;
    }
    const listing: Record<string, { isDirectory: boolean }> = {};
    for (const entry of readdirSync(real, { withFileTypes: true })) {
      const keep = entry.isDirectory() || /\.(sol|json|md)$/.test(entry.name);
      if (keep) listing[`${args.path.replace(/\/$/, "")}/${entry.name}`] = { isDirectory: entry.isDirectory() };
    }
    return listing;
  }
  override async get(args: { path: string }) {
    const real = overlayPath(args.path);
    if (real === null) return super.get(args);
    return { content: readFileSync(real, "utf8"), readonly: true };
  }
  override exists(args: { path: string }) {
    if (isNodeModules(args.path)) return true;
    const real = overlayPath(args.path);
    if (real === null) return super.exists(args);
    try {
      statSync(real);
      return true;
    } catch {
      return false;
    }
  }
  override isFile(args: { path: string }) {
    const real = isNodeModules(args.path) ? null : overlayPath(args.path);
    return real === null ? !isNodeModules(args.path) && super.isFile(args) : statSync(real).isFile();
  }
  override isDirectory(args: { path: string }) {
    if (isNodeModules(args.path)) return true;
    const real = overlayPath(args.path);
    return real === null ? super.isDirectory(args) : statSync(real).isDirectory();
  }
  override async set(args: { path: string; content: string }) {
    if (overlayPath(args.path) !== null || isNodeModules(args.path)) throw readOnlyError();
    return super.set(args);
  }
  override async createDir(args: { path: string }) {
    if (overlayPath(args.path) !== null || isNodeModules(args.path)) throw readOnlyError();
    return super.createDir(args);
  }
  override async remove(args: { path: string }) {
    if (overlayPath(args.path) !== null || isNodeModules(args.path)) throw readOnlyError();
    return super.remove(args);
  }
  override async rename(args: { oldPath: string; newPath: string }) {
    for (const p of [args.oldPath, args.newPath])
      if (overlayPath(p) !== null || isNodeModules(p)) throw readOnlyError();
    return super.rename(args);
  }
}

const socket = new remixd.Websocket(FOLDER_PORT, { remixIdeUrl }, () => new SharedWithOpenZeppelin(false));
socket.start((ws, client, error) => {
  if (error !== undefined) {
    console.error(
      error.code === "EADDRINUSE"
        ? `✖ port ${FOLDER_PORT} is taken: another remixd is running`
        : `✖ remixd: ${error.message}`,
    );
    process.exit(1);
  }
  client.setWebSocket(ws);
  client.setupNotifications(sharedFolder);
  client.sharedFolder(sharedFolder);
  console.log(`[remixd] ${remixIdeUrl} connected`);
});

// The project's compiler, for Remix's "custom compiler" (Private Network Access allows 127.0.0.1 on request).
const soljson = require.resolve("solc/soljson.js");
const solcVersion = (require("solc/package.json") as { version: string }).version;
const compilerPort = Number(values["compiler-port"]);
const compiler = createServer((req, res) => {
  const headers = {
    "access-control-allow-origin": remixIdeUrl,
    "access-control-allow-private-network": "true",
    "access-control-allow-methods": "GET",
  };
  if (req.method === "OPTIONS") {
    res.writeHead(204, headers).end();
  } else if (req.method === "GET" && req.url === "/soljson.js") {
    res.writeHead(200, { ...headers, "content-type": "application/javascript" }).end(readFileSync(soljson));
  } else {
    res.writeHead(404, headers).end();
  }
});
compiler.on("error", (error: NodeJS.ErrnoException) => {
  console.error(`✖ compiler server on port ${compilerPort}: ${error.code ?? error.message} (choose --compiler-port)`);
  process.exit(1);
});
compiler.listen(compilerPort, "127.0.0.1", () => {
  console.log(`Sharing ${sharedFolder} with ${remixIdeUrl} (remixd on ws://127.0.0.1:${FOLDER_PORT}),`);
  console.log(`  and ${overlayRoot} read-only as ${OVERLAY}/ (compiler_config.json remaps @openzeppelin/ there).`);
  console.log(`Compiler: solc ${solcVersion} at http://127.0.0.1:${compilerPort}/soljson.js (Remix: custom compiler).`);
  console.log("In Remix: workspace menu → Connect to Localhost. Guide: docs/remix.md. Ctrl-C stops.");
});

function stop() {
  socket.close();
  compiler.close();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
