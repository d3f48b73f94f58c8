/**
 * `npm run lottery:verify -- --url https://shuzang.example --collection 42 [--rpc https://chain.example]`
 * or `npm run lottery:verify -- --file result.json [--rpc …]`: recomputes a drawn lottery's winners from
 * public data alone (what the public `lottery.result` procedure publishes, fetched anonymously or saved as
 * JSON) and prints "match" or "mismatch" with the reasons; exits 1 on a mismatch.
 *
 * It checks that SHA-256(seed) is the commitment published when the lottery opened, that the sorted entry
 * list hashes to the published entries hash, and that the winners recomputed from (seed, block hash, entries)
 * are those published. With --rpc it also asks the chain that the block has that hash and is the first at
 * or after the fixed draw time.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";

import { JsonRpcProvider } from "ethers";

import { type PublishedLottery, verifyLottery } from "../server/modules/drops/lottery-proof.js";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    collection: { type: "string" },
    file: { type: "string" },
    rpc: { type: "string" },
  },
});

async function published(): Promise<PublishedLottery & { drawAt?: string }> {
  if (values.file !== undefined) return JSON.parse(await readFile(values.file, "utf8")) as PublishedLottery;
  if (values.url === undefined || values.collection === undefined) {
    console.error("usage: lottery:verify -- (--url <origin> --collection <id> | --file <result.json>) [--rpc <url>]");
    process.exit(2);
  }
  const input = encodeURIComponent(JSON.stringify({ collectionId: Number(values.collection) }));
  const response = await fetch(new URL(`/trpc/lottery.result?input=${input}`, values.url));
  if (!response.ok) throw new Error(`lottery.result answered ${response.status}`);
  const body = (await response.json()) as { result: { data: PublishedLottery | null } };
  if (body.result.data === null) {
    console.error(`collection ${values.collection} has no lottery`);
    process.exit(2);
  }
  return body.result.data;
}

/** Whether block `number` has `hash` and is the chain's first at or after `drawAt`. */
async function chainProblems(rpc: string, result: PublishedLottery & { drawAt?: string }): Promise<string[]> {
  const provider = new JsonRpcProvider(rpc);
  const problems: string[] = [];
  const block = await provider.getBlock(result.blockNumber!);
  if (block === null || block.hash !== result.blockHash) problems.push("the chain's block has another hash");
  if (result.drawAt !== undefined && block !== null) {
    const target = Math.ceil(Date.parse(result.drawAt) / 1000);
    const previous = block.number === 0 ? null : await provider.getBlock(block.number - 1);
    if (block.timestamp < target || (previous !== null && previous.timestamp >= target)) {
      problems.push("the block is not the first at or after the draw time");
    }
  }
  provider.destroy();
  return problems;
}

const result = await published();
const check = verifyLottery(result);
const problems = [...check.problems];
if (check.problems.length === 0 && values.rpc !== undefined)
  problems.push(...(await chainProblems(values.rpc, result)));
console.log(`entries: ${result.entries.length}, winners: ${check.winners.length}, block: ${result.blockNumber}`);
for (const winner of check.winners) console.log(`  winner ${winner}`);
if (problems.length === 0) {
  console.log("match");
} else {
  console.log("mismatch");
  for (const problem of problems) console.log(`  ✖ ${problem}`);
  process.exit(1);
}
