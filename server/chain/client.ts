import { readFileSync } from "node:fs";

import {
  type AbstractSigner,
  type ContractTransactionResponse,
  FetchRequest,
  JsonRpcProvider,
  NonceManager,
  type Provider,
  type TransactionReceipt,
  type TransactionRequest,
  type TransactionResponse,
} from "ethers";

import {
  type Collection,
  Collection__factory,
  type CollectionFactory,
  CollectionFactory__factory,
  type IdentityRegistry,
  IdentityRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import type { KeyCustody, PlatformRole } from "../modules/wallets/custody.js";

/**
 * Chain access: one provider, typed contract bindings generated from the
 * Hardhat artifacts, and one sender per platform role. Each sender
 * serialises its transactions and tracks its nonce, so concurrent callers
 * never collide; a failed send resets the nonce from the chain. The same
 * code runs against the in-process chain, `hardhat node` or any RPC URL.
 */
export interface ChainAddresses {
  accessManager: string;
  identityRegistry: string;
  collectionFactory: string;
}

export interface ChainOptions {
  provider: Provider;
  addresses: ChainAddresses;
  custody: KeyCustody;
  confirmations: number;
  gasPrice: bigint;
  /** A sent transaction without its receipt after this long is reported as failed (and retried by its owner). */
  receiptTimeoutMs?: number;
}

export interface Chain {
  readonly provider: Provider;
  readonly addresses: ChainAddresses;
  readonly registry: IdentityRegistry;
  readonly factory: CollectionFactory;
  collection(address: string): Collection;
  /**
   * Sends one transaction as `role` and waits for the configured confirmations.
   * `build` receives contracts connected to the role's signer and the gas overrides.
   */
  send(
    role: PlatformRole,
    build: (contracts: SignedContracts, overrides: SendOverrides) => Promise<ContractTransactionResponse>,
    options?: SendOptions,
  ): Promise<TransactionReceipt>;
  /**
   * Broadcasts an empty transaction (no value, to itself) as `role` with the nonce `nonce`, so that no other
   * transaction signed with that nonce can be mined; resolves once the node has taken it.
   */
  useNonce(role: PlatformRole, nonce: number): Promise<void>;
  /** The role's transaction counts: mined (`latest`), and with its transactions waiting in the node's pool (`pending`). */
  transactionCounts(role: PlatformRole): Promise<{ latest: number; pending: number }>;
  /** Sends one transaction from a collector's custodial address (a gift), with the same guarantees. */
  sendAsCollector(
    derivationIndex: number,
    build: (contracts: SignedContracts, overrides: SendOverrides) => Promise<ContractTransactionResponse>,
  ): Promise<TransactionReceipt>;
  ping(): Promise<boolean>;
}

/** Gas overrides, and the nonce when the caller manages the role's nonces. */
export interface SendOverrides {
  gasPrice: bigint;
  nonce?: number;
}

export interface SendOptions {
  /**
   * Sends with this nonce instead of the role's own count: the caller manages the role's nonces (the mint
   * worker records each batch's nonce before broadcasting it, so it can tell from the chain when no attempt
   * of a batch can be mined any more).
   */
  nonce?: number;
  /** Told as soon as the node has taken the transaction, before its receipt is awaited. */
  onBroadcast?: (sent: { hash: string; nonce: number }) => void;
}

export interface SignedContracts {
  registry: IdentityRegistry;
  factory: CollectionFactory;
  collection(address: string): Collection;
}

/**
 * ethers' NonceManager, except that the nonce it asks for while the
 * transaction is being filled in is never left to fail unobserved: when the
 * chain is unreachable both requests fail, and ethers' own version awaited
 * only the first, leaving the second as an unhandled rejection (which ends a
 * Node process: the chain-outage suite caught it).
 */
class TrackedNonceSigner extends NonceManager {
  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const nonce = this.getNonce("pending");
    nonce.catch(() => undefined); // observed here; awaited (and its error thrown) below
    this.increment();
    const populated = await this.signer.populateTransaction(tx);
    populated.nonce = await nonce;
    return this.signer.sendTransaction(populated);
  }
}

class RoleSender {
  readonly #signer: NonceManager;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    signer: AbstractSigner,
    readonly receiptTimeoutMs: number,
  ) {
    this.#signer = new TrackedNonceSigner(signer);
  }

  get signer(): NonceManager {
    return this.#signer;
  }

  /**
   * Runs `broadcast` alone (one nonce at a time), then waits for the receipt outside the queue. With an
   * explicit nonce the transaction is signed by the role's own signer with it, and the role's nonce count is
   * read again from the chain for the next send without one.
   */
  async send(
    broadcast: (signer: AbstractSigner) => Promise<TransactionResponse>,
    confirmations: number,
    explicitNonce = false,
    onBroadcast?: SendOptions["onBroadcast"],
  ): Promise<TransactionReceipt> {
    const sent = this.#queue.then(async () => {
      try {
        return await broadcast(explicitNonce ? this.#signer.signer : this.#signer);
      } catch (error) {
        this.#signer.reset();
        throw error;
      } finally {
        if (explicitNonce) this.#signer.reset();
      }
    });
    this.#queue = sent.catch(() => undefined);
    const tx = await sent;
    onBroadcast?.({ hash: tx.hash, nonce: tx.nonce });
    return waitForReceipt(tx, confirmations, this.receiptTimeoutMs);
  }
}

/** How often a sent transaction's receipt is asked for (once a new block is seen). */
const RECEIPT_POLL_MS = 250;

/** How long one answer to "the latest block number" serves every transaction waiting on the same provider. */
const BLOCK_NUMBER_SHARED_MS = 200;

const sharedBlockNumbers = new WeakMap<Provider, { at: number; number: Promise<number> }>();

/**
 * The chain's latest block number, one request shared by all the transactions waiting for receipts (a worker
 * with fifty in flight would otherwise ask for fifty receipts four times a second, and keep the node busy).
 */
function latestBlockNumber(provider: Provider): Promise<number> {
  const shared = sharedBlockNumbers.get(provider);
  if (shared !== undefined && Date.now() - shared.at < BLOCK_NUMBER_SHARED_MS) return shared.number;
  const number = provider.getBlockNumber();
  number.catch(() => undefined); // awaited (and its error thrown) by each caller
  sharedBlockNumbers.set(provider, { at: Date.now(), number });
  return number;
}

/**
 * Waits for `tx` to have `confirmations` by asking for its receipt whenever a
 * new block is seen, and gives up after `timeoutMs`. Unlike waiting for block
 * events, this does not hang
 * when the chain was unreachable while the transaction was mined and no block
 * follows (a chain that mines on demand); the caller's retry then asks the
 * chain what happened, which is how every sender here recovers.
 */
async function waitForReceipt(
  tx: TransactionResponse,
  confirmations: number,
  timeoutMs: number,
): Promise<TransactionReceipt> {
  const provider = tx.provider;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  // The block the receipt was last asked at: it is asked again only once the chain has moved on.
  let askedAt: number | null = null;
  for (;;) {
    let receipt: TransactionReceipt | null = null;
    let confirmed = false;
    try {
      const block = await latestBlockNumber(provider);
      if (block !== askedAt) {
        receipt = await provider.getTransactionReceipt(tx.hash);
        askedAt = block;
        confirmed = receipt !== null && (confirmations <= 1 || (await receipt.confirmations()) >= confirmations);
      }
    } catch (error) {
      lastError = error; // unreachable for now: ask again until the deadline
    }
    if (receipt !== null && receipt.status === 0) {
      // Reverted: ethers builds the error (CALL_EXCEPTION with the receipt), as callers expect.
      await tx.wait(1);
      throw new Error(`transaction ${tx.hash} reverted`);
    }
    if (receipt !== null && confirmed) return receipt;
    if (Date.now() > deadline) {
      throw new Error(
        `no receipt for transaction ${tx.hash} within ${timeoutMs} ms` +
          (lastError === null ? "" : ` (last error: ${errorText(lastError)})`),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
}

export function createChain(options: ChainOptions): Chain {
  const { provider, addresses, custody, confirmations, gasPrice } = options;
  const receiptTimeoutMs = options.receiptTimeoutMs ?? 120_000;
  const senders = new Map<string, RoleSender>();
  const senderFor = (role: PlatformRole) => cachedSender(`role:${role}`, () => custody.platformSigner(role, provider));
  const cachedSender = (key: string, signer: () => AbstractSigner) => {
    let sender = senders.get(key);
    if (sender === undefined) {
      sender = new RoleSender(signer(), receiptTimeoutMs);
      senders.set(key, sender);
    }
    return sender;
  };
  const signed = (signer: AbstractSigner): SignedContracts => ({
    registry: IdentityRegistry__factory.connect(addresses.identityRegistry, signer),
    factory: CollectionFactory__factory.connect(addresses.collectionFactory, signer),
    collection: (address) => Collection__factory.connect(address, signer),
  });

  return {
    provider,
    addresses,
    registry: IdentityRegistry__factory.connect(addresses.identityRegistry, provider),
    factory: CollectionFactory__factory.connect(addresses.collectionFactory, provider),
    collection: (address) => Collection__factory.connect(address, provider),
    send(role, build, sendOptions) {
      const nonce = sendOptions?.nonce;
      const overrides: SendOverrides = nonce === undefined ? { gasPrice } : { gasPrice, nonce };
      return senderFor(role).send(
        (signer) => build(signed(signer), overrides),
        confirmations,
        nonce !== undefined,
        sendOptions?.onBroadcast,
      );
    },
    async useNonce(role, nonce) {
      let broadcast = () => undefined as void;
      const taken = new Promise<void>((resolve) => (broadcast = resolve));
      const receipt = senderFor(role).send(
        async (signer) =>
          signer.sendTransaction({ to: await signer.getAddress(), value: 0n, gasLimit: 21_000n, gasPrice, nonce }),
        1,
        true,
        () => broadcast(),
      );
      receipt.catch(() => undefined); // its receipt is not awaited: the chain's transaction count tells
      await Promise.race([taken, receipt.then(() => undefined)]);
    },
    async transactionCounts(role) {
      const address = await senderFor(role).signer.getAddress();
      const [latest, pending] = await Promise.all([
        provider.getTransactionCount(address, "latest"),
        provider.getTransactionCount(address, "pending"),
      ]);
      return { latest, pending };
    },
    sendAsCollector(derivationIndex, build) {
      const sender = cachedSender(`collector:${derivationIndex}`, () =>
        custody.collectorSigner(derivationIndex, provider),
      );
      return sender.send((signer) => build(signed(signer), { gasPrice }), confirmations);
    },
    async ping() {
      try {
        await Promise.race([
          provider.getBlockNumber(),
          new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 2000)),
        ]);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Reads the addresses Hardhat Ignition recorded for the `Platform` module. */
export function readDeployment(file: string): ChainAddresses {
  const recorded = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  const pick = (key: string) => {
    const value = recorded[`Platform#${key}`];
    if (value === undefined) throw new Error(`${file} has no Platform#${key}`);
    return value;
  };
  return {
    accessManager: pick("AccessManager"),
    identityRegistry: pick("IdentityRegistry"),
    collectionFactory: pick("CollectionFactory"),
  };
}

/**
 * A JSON-RPC provider whose every request gives up after `timeoutMs`: when the
 * chain is cut off, a request sent into the void fails and is retried by its
 * worker, instead of holding that worker for the whole outage.
 */
export function rpcProvider(url: string, timeoutMs = 15_000): Provider {
  const request = new FetchRequest(url);
  request.timeout = timeoutMs;
  return new JsonRpcProvider(request, undefined, { staticNetwork: true, cacheTimeout: -1 });
}
