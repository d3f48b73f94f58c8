/**
 * `npm start`: the one-command platform. Not there yet: the server and the
 * storefront arrive with their issues. Until then this starts what exists,
 * a local chain with the platform's contracts deployed, so developers can try
 * the contracts at http://127.0.0.1:8545.
 */
import { spawn } from "node:child_process";

console.log(
  [
    "npm start: the server (tRPC, KYC, payments) and the web storefront are not built yet.",
    "Starting what exists: a local Hardhat chain on http://127.0.0.1:8545 with the platform contracts deployed.",
  ].join("\n"),
);

const chain = spawn("npx", ["hardhat", "node"], { stdio: ["ignore", "pipe", "inherit"] });
let deployed = false;
chain.stdout.on("data", (chunk: Buffer) => {
  process.stdout.write(chunk);
  if (!deployed && chunk.toString().includes("Started HTTP")) {
    deployed = true;
    const deploy = spawn(
      "npx",
      ["hardhat", "ignition", "deploy", "ignition/modules/Platform.ts", "--network", "localhost"],
      { stdio: "inherit" },
    );
    deploy.on("exit", (code) => {
      if (code !== 0) console.error(`Deployment failed with exit code ${code}.`);
    });
  }
});
const stop = () => chain.kill("SIGTERM");
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
chain.on("exit", (code) => process.exit(code ?? 0));
