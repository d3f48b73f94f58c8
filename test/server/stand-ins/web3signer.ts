import { type AddressInfo } from "node:net";
import { type Server, createServer } from "node:http";

import { Transaction, Wallet, getAddress, getBytes } from "ethers";

/**
 * A local stand-in for ConsenSys Web3Signer in `eth1` mode: the Ethereum
 * JSON-RPC signing API (`eth_accounts`, `eth_signTransaction`, `eth_sign`,
 * `eth_signTypedData`) over HTTP, signing with real keys it holds and with the
 * chain id it was started with (Web3Signer's `--chain-id`). A request for an
 * account it holds no key for is refused, as Web3Signer refuses it. Every
 * request is recorded; `tamper` makes it sign a different transaction than
 * asked (a compromised or buggy signer).
 */
export interface Web3SignerStandIn {
  url: string;
  addresses: string[];
  requests: { method: string; params: unknown[] }[];
  /** Signs the next transactions with this change applied (e.g. another `to`). */
  tamper: ((tx: Transaction) => void) | null;
  close(): Promise<void>;
}

interface RpcRequest {
  id?: number | string;
  method?: string;
  params?: unknown[];
}

type Quantity = string | undefined;
const big = (value: Quantity, fallback: bigint) => (value === undefined ? fallback : BigInt(value));

export async function startWeb3SignerStandIn(options: {
  privateKeys: string[];
  chainId: bigint;
}): Promise<Web3SignerStandIn> {
  const wallets = new Map(options.privateKeys.map((key) => [new Wallet(key).address, new Wallet(key)]));
  const standIn: Web3SignerStandIn = {
    url: "",
    addresses: [...wallets.keys()],
    requests: [],
    tamper: null,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const walletOf = (address: unknown) => {
    const wallet = typeof address === "string" ? wallets.get(getAddress(address)) : undefined;
    if (wallet === undefined) throw Object.assign(new Error(`No signer for ${String(address)}`), { code: -32000 });
    return wallet;
  };

  async function answer(method: string, params: unknown[]): Promise<unknown> {
    switch (method) {
      case "eth_accounts":
        return [...wallets.keys()].map((address) => address.toLowerCase());
      case "eth_signTransaction": {
        const request = params[0] as Record<string, string | undefined>;
        const wallet = walletOf(request.from);
        const dynamic = request.maxFeePerGas !== undefined || request.maxPriorityFeePerGas !== undefined;
        const tx = Transaction.from({
          type: dynamic ? 2 : 0,
          chainId: options.chainId,
          to: request.to ?? null,
          nonce: Number(big(request.nonce, 0n)),
          gasLimit: big(request.gas, 90_000n), // Web3Signer's documented defaults: 90000 gas, gas price 0
          value: big(request.value, 0n),
          data: request.data ?? "0x",
          ...(dynamic
            ? {
                maxFeePerGas: big(request.maxFeePerGas, 0n),
                maxPriorityFeePerGas: big(request.maxPriorityFeePerGas, 0n),
              }
            : { gasPrice: big(request.gasPrice, 0n) }),
        });
        standIn.tamper?.(tx);
        tx.signature = wallet.signingKey.sign(tx.unsignedHash);
        return tx.serialized;
      }
      case "eth_sign":
        return walletOf(params[0]).signMessage(getBytes(params[1] as string));
      case "eth_signTypedData": {
        const { domain, types, message } = params[1] as {
          domain: Record<string, unknown>;
          types: Record<string, { name: string; type: string }[]>;
          message: Record<string, unknown>;
        };
        const { EIP712Domain: _domain, ...rest } = types;
        return walletOf(params[0]).signTypedData(domain, rest, message);
      }
      default:
        throw Object.assign(new Error(`Method not found: ${method}`), { code: -32601 });
    }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let request: RpcRequest;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RpcRequest;
      } catch {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }));
        return;
      }
      const method = request.method ?? "";
      const params = request.params ?? [];
      standIn.requests.push({ method, params });
      answer(method, params).then(
        (result) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ jsonrpc: "2.0", id: request.id ?? null, result }));
        },
        (error: Error & { code?: number }) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              jsonrpc: "2.0",
              id: request.id ?? null,
              error: { code: error.code ?? -32603, message: error.message },
            }),
          );
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}
