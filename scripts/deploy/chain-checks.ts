/**
 * The checks `npm run deploy:check` runs against a chain before the platform
 * is deployed to it: the chain id is the configured one, a transaction at the
 * configured gas price (0 on a consortium chain) is accepted and mined, and
 * the EVM runs Cancun (OpenZeppelin 5.7 uses MCOPY; solc's cancun target uses
 * PUSH0, TSTORE and TLOAD too).
 *
 * The Cancun probe is 20 bytes of hand-written init code: PUSH0, TSTORE/TLOAD a
 * value, MSTORE it, MCOPY it one word on, and RETURN the copied word. Before
 * Cancun (or Shanghai, for PUSH0) it stops on an invalid opcode. It is first
 * run by `eth_call` (no transaction), then deployed by the transaction of the
 * gas-price check, whose deployed code must be that word: so the check also
 * covers what the node's `eth_call` does not show.
 */

/** An EIP-1193 provider: Hardhat's network connection, or any JSON-RPC client wrapped as one. */
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export const CANCUN_PROBE = "0x602a5f5d5f5c5f5260205f60205e60206020f3";
/** What the probe returns (and leaves as the deployed code): the word 42. */
export const CANCUN_PROBE_RESULT = `0x${"2a".padStart(64, "0")}`;

export interface ChainCheckOptions {
  provider: Eip1193;
  /** CHAIN_ID of the configuration. */
  expectedChainId: bigint;
  /** CHAIN_GAS_PRICE of the configuration (wei). */
  gasPrice: bigint;
  /** The deploying account (sends the probe). */
  from: string;
  /** false: no transaction is sent (chain id and `eth_call` only). */
  send?: boolean;
  /** How long to wait for the probe's receipt. */
  receiptTimeoutMs?: number;
  pollMs?: number;
}

export interface CheckResult {
  name: "chain id" | "gas price" | "cancun";
  ok: boolean;
  message: string;
}

const hex = (value: bigint) => `0x${value.toString(16)}`;
const reason = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, 300);
const noCancun = (detail: string) =>
  `the chain's EVM does not run Cancun (${detail}). The contracts are compiled for cancun (OpenZeppelin 5.7 ` +
  "uses MCOPY): activate Cancun on every node (Besu: cancunTime in the genesis; docs/besu), or target the " +
  "chain's newer fork with SOLIDITY_EVM_VERSION";

export async function checkChain(options: ChainCheckOptions): Promise<CheckResult[]> {
  const { provider, expectedChainId, gasPrice, from } = options;
  const results: CheckResult[] = [];

  const chainId = BigInt((await provider.request({ method: "eth_chainId" })) as string);
  results.push(
    chainId === expectedChainId
      ? { name: "chain id", ok: true, message: `chain id ${chainId} is CHAIN_ID` }
      : {
          name: "chain id",
          ok: false,
          message: `the node at CHAIN_RPC_URL serves chain id ${chainId}, CHAIN_ID says ${expectedChainId}: wrong node or wrong setting`,
        },
  );
  if (chainId !== expectedChainId) return results; // nothing else is worth sending to the wrong chain

  // Cancun by eth_call: no transaction, no state change.
  let callVerdict: CheckResult | null = null;
  try {
    const returned = (await provider.request({
      method: "eth_call",
      params: [{ from, data: CANCUN_PROBE, gas: hex(100_000n), gasPrice: hex(0n) }, "latest"],
    })) as string;
    callVerdict =
      returned.toLowerCase() === CANCUN_PROBE_RESULT
        ? { name: "cancun", ok: true, message: "PUSH0, TSTORE, TLOAD and MCOPY run (eth_call)" }
        : { name: "cancun", ok: false, message: noCancun(`the probe returned ${returned}`) };
  } catch (error) {
    const text = reason(error);
    if (/invalid opcode|opcode.*(not|undefined|invalid)|INVALID|not activated/i.test(text)) {
      callVerdict = { name: "cancun", ok: false, message: noCancun(`eth_call: ${text}`) };
    }
    // Otherwise the node may not run a creation by eth_call: the probe transaction decides below.
  }

  if (options.send === false) {
    results.push(
      callVerdict ?? { name: "cancun", ok: false, message: "eth_call of the probe failed; run without --no-send" },
    );
    return results;
  }

  const receiptTimeoutMs = options.receiptTimeoutMs ?? 60_000;
  let hash: string;
  try {
    hash = (await provider.request({
      method: "eth_sendTransaction",
      params: [{ from, data: CANCUN_PROBE, gas: hex(100_000n), gasPrice: hex(gasPrice) }],
    })) as string;
  } catch (error) {
    const text = reason(error);
    if (/invalid opcode/i.test(text)) {
      // A node that runs the transaction on submission (a development chain) reports the missing fork here.
      results.push({ name: "gas price", ok: true, message: `a transaction at gas price ${gasPrice} is accepted` });
      results.push(callVerdict ?? { name: "cancun", ok: false, message: noCancun(text) });
      return results;
    }
    results.push({
      name: "gas price",
      ok: false,
      message:
        `the node refused a transaction at gas price ${gasPrice} wei (CHAIN_GAS_PRICE): ${text}. ` +
        "A gas-free consortium chain needs a zero base fee (zeroBaseFee) and min-gas-price 0 on every node; " +
        "otherwise set CHAIN_GAS_PRICE to a price it accepts",
    });
    if (callVerdict !== null) results.push(callVerdict);
    return results;
  }

  const deadline = Date.now() + receiptTimeoutMs;
  type Receipt = { status?: string; contractAddress?: string | null };
  let receipt = null as Receipt | null;
  while (receipt === null && Date.now() < deadline) {
    receipt = (await provider.request({ method: "eth_getTransactionReceipt", params: [hash] })) as Receipt | null;
    if (receipt === null) await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
  if (receipt === null) {
    results.push({
      name: "gas price",
      ok: false,
      message:
        `the probe transaction ${hash} at gas price ${gasPrice} wei was accepted but not mined within ` +
        `${receiptTimeoutMs / 1000} s: a validator with a minimum gas price above it drops it (Besu: ` +
        "min-gas-price and tx-pool-min-gas-price 0), or the sender is not on every node's accounts allowlist",
    });
    if (callVerdict !== null) results.push(callVerdict);
    return results;
  }
  results.push({
    name: "gas price",
    ok: true,
    message: `a transaction at gas price ${gasPrice} wei is accepted and mined (${hash})`,
  });

  if (receipt.status !== "0x1" || receipt.contractAddress == null) {
    results.push({ name: "cancun", ok: false, message: noCancun(`the probe deployment ${hash} failed`) });
    return results;
  }
  const code = (await provider.request({
    method: "eth_getCode",
    params: [receipt.contractAddress, "latest"],
  })) as string;
  results.push(
    code.toLowerCase() === CANCUN_PROBE_RESULT
      ? {
          name: "cancun",
          ok: true,
          message: `PUSH0, TSTORE, TLOAD and MCOPY run (probe deployed at ${receipt.contractAddress})`,
        }
      : { name: "cancun", ok: false, message: noCancun(`the probe left code ${code}`) },
  );
  return results;
}
