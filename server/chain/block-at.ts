import type { Provider } from "ethers";

/**
 * The first block whose timestamp is at or after `at` (a binary search over block numbers, timestamps being
 * non-decreasing), or null while the chain has produced none yet. The same answer whenever it is asked once
 * such a block exists: a lottery's anchor does not depend on when its draw runs.
 */
export async function firstBlockAtOrAfter(
  provider: Pick<Provider, "getBlock">,
  at: Date,
): Promise<{ blockNumber: number; blockHash: string } | null> {
  const target = Math.ceil(at.getTime() / 1000);
  const latest = await provider.getBlock("latest");
  if (latest === null || latest.timestamp < target) return null;
  let low = 0;
  let high = latest.number;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const block = await provider.getBlock(middle);
    if (block !== null && block.timestamp >= target) high = middle;
    else low = middle + 1;
  }
  const found = await provider.getBlock(low);
  if (found === null || found.hash === null) return null;
  return { blockNumber: found.number, blockHash: found.hash };
}
