import {
  AbstractSigner,
  type Provider,
  Transaction,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
  TypedDataEncoder,
  copyRequest,
  getAddress,
  hexlify,
  resolveAddress,
  toQuantity,
  toUtf8Bytes,
  verifyMessage,
  verifyTypedData,
} from "ethers";

import { type Config, ROLE_ACCOUNT_VARIABLES } from "../../config.js";
import {
  type KeyCustody,
  PLATFORM_ROLES,
  type PlatformRole,
  type RoleSigners,
  createCustody,
  createMnemonicRoleSigners,
} from "./custody.js";

/**
 * Role keys held by a remote signer that speaks Web3Signer's Ethereum JSON-RPC
 * signing API (`eth_accounts`, `eth_signTransaction`, `eth_sign`,
 * `eth_signTypedData`; ConsenSys Web3Signer in `eth1` mode, backed by its key
 * files, HashiCorp Vault, AWS or Azure KMS, or an HSM). The server never sees
 * these keys: it builds each transaction (nonce, gas, gas price), asks the
 * signer for the signed raw transaction, checks that it is the transaction it
 * asked for, signed by the role's account for this chain, and broadcasts it
 * through its own node.
 *
 * Web3Signer signs with the chain id it was started with (`eth1 --chain-id`);
 * a signature for another chain is refused here with a message saying so.
 */

/** A transaction as `eth_signTransaction` takes it: hex quantities, `data`, no chain id. */
export interface Web3SignerTransaction {
  from: string;
  to?: string;
  gas: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  value: string;
  data: string;
  nonce: string;
}

export class RemoteSignerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RemoteSignerError";
  }
}

/** The JSON-RPC calls of the signing API. */
export interface Web3SignerClient {
  readonly url: string;
  accounts(): Promise<string[]>;
  signTransaction(tx: Web3SignerTransaction): Promise<string>;
  /** `eth_sign`: the EIP-191 personal-message signature of `data` (hex). */
  sign(address: string, data: string): Promise<string>;
  /** `eth_signTypedData`: the EIP-712 signature of the typed data (JSON payload). */
  signTypedData(address: string, payload: unknown): Promise<string>;
}

export function createWeb3SignerClient(url: string, timeoutMs = 10_000): Web3SignerClient {
  let nextId = 1;
  async function call<T>(method: string, params: unknown[]): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RemoteSignerError(`the remote signer at ${url} did not answer ${method}: ${reason}`);
    }
    let body: { result?: T; error?: { code?: number; message?: string } };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new RemoteSignerError(
        `the remote signer at ${url} answered ${method} with HTTP ${response.status}, no JSON`,
      );
    }
    if (body.error !== undefined) {
      throw new RemoteSignerError(
        `the remote signer refused ${method}: ${body.error.message ?? "error"} (${body.error.code ?? "?"})`,
      );
    }
    if (body.result === undefined) throw new RemoteSignerError(`the remote signer answered ${method} without a result`);
    return body.result;
  }
  return {
    url,
    accounts: () => call<string[]>("eth_accounts", []),
    signTransaction: (tx) => call<string>("eth_signTransaction", [tx]),
    sign: (address, data) => call<string>("eth_sign", [address, data]),
    signTypedData: (address, payload) => call<string>("eth_signTypedData", [address, payload]),
  };
}

const quantity = (value: bigint | number) => toQuantity(value);

/** A signer for one account of the remote signer; holds no key. */
export class RemoteSigner extends AbstractSigner {
  readonly address: string;
  readonly #client: Web3SignerClient;

  constructor(address: string, client: Web3SignerClient, provider: Provider | null = null) {
    super(provider);
    this.address = getAddress(address);
    this.#client = client;
  }

  override async getAddress(): Promise<string> {
    return this.address;
  }

  override connect(provider: Provider | null): RemoteSigner {
    return new RemoteSigner(this.address, this.#client, provider);
  }

  override async signTransaction(request: TransactionRequest): Promise<string> {
    const tx = copyRequest(request);
    if (tx.from != null) {
      const from = await resolveAddress(tx.from, this.provider);
      if (getAddress(from) !== this.address)
        throw new RemoteSignerError(`transaction from ${from} given to ${this.address}`);
    }
    if (tx.nonce == null || tx.gasLimit == null) throw new RemoteSignerError("populate the nonce and gas limit first");
    const to = tx.to == null ? undefined : getAddress(await resolveAddress(tx.to, this.provider));
    const dynamic = tx.type === 2 || (tx.type == null && tx.maxFeePerGas != null);
    if (tx.type != null && tx.type !== 0 && tx.type !== 2) {
      throw new RemoteSignerError(`transaction type ${tx.type} is not signed remotely (legacy or EIP-1559 only)`);
    }
    const params: Web3SignerTransaction = {
      from: this.address,
      ...(to === undefined ? {} : { to }),
      gas: quantity(tx.gasLimit),
      ...(dynamic
        ? {
            maxFeePerGas: quantity(tx.maxFeePerGas ?? 0n),
            maxPriorityFeePerGas: quantity(tx.maxPriorityFeePerGas ?? 0n),
          }
        : { gasPrice: quantity(tx.gasPrice ?? 0n) }),
      value: quantity(tx.value ?? 0n),
      data: hexlify(tx.data ?? "0x"),
      nonce: quantity(tx.nonce),
    };
    const raw = await this.#client.signTransaction(params);
    let signed: Transaction;
    try {
      signed = Transaction.from(raw);
    } catch {
      throw new RemoteSignerError(
        "the remote signer answered eth_signTransaction with something that is no transaction",
      );
    }
    const expectedChainId = tx.chainId ?? (this.provider === null ? null : (await this.provider.getNetwork()).chainId);
    this.#check(signed, params, expectedChainId);
    return signed.serialized;
  }

  /** The signed transaction must be the one asked for, signed by this account, for this chain. */
  #check(signed: Transaction, asked: Web3SignerTransaction, chainId: bigint | null) {
    const differs: string[] = [];
    if (signed.from === null || getAddress(signed.from) !== this.address) differs.push(`signer ${signed.from}`);
    if ((signed.to === null ? undefined : getAddress(signed.to)) !== asked.to) differs.push("to");
    if (quantity(signed.nonce) !== asked.nonce) differs.push("nonce");
    if (quantity(signed.gasLimit) !== asked.gas) differs.push("gas");
    if (quantity(signed.value) !== asked.value) differs.push("value");
    if (signed.data.toLowerCase() !== asked.data.toLowerCase()) differs.push("data");
    if (asked.gasPrice !== undefined && quantity(signed.gasPrice ?? 0n) !== asked.gasPrice) differs.push("gasPrice");
    if (asked.maxFeePerGas !== undefined && quantity(signed.maxFeePerGas ?? 0n) !== asked.maxFeePerGas)
      differs.push("maxFeePerGas");
    if (differs.length > 0) {
      throw new RemoteSignerError(`the remote signer signed another transaction than asked (${differs.join(", ")})`);
    }
    if (chainId !== null && signed.chainId !== chainId) {
      throw new RemoteSignerError(
        `the remote signer signed for chain id ${signed.chainId}, the chain is ${chainId}: start Web3Signer with --chain-id=${chainId}`,
      );
    }
  }

  override async signMessage(message: string | Uint8Array): Promise<string> {
    const data = hexlify(typeof message === "string" ? toUtf8Bytes(message) : message);
    const signature = await this.#client.sign(this.address, data);
    if (getAddress(verifyMessage(message, signature)) !== this.address) {
      throw new RemoteSignerError("the remote signer's eth_sign signature is not this account's");
    }
    return signature;
  }

  override async signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    const payload = TypedDataEncoder.getPayload(domain, types, value);
    const signature = await this.#client.signTypedData(this.address, payload);
    if (getAddress(verifyTypedData(domain, types, value, signature)) !== this.address) {
      throw new RemoteSignerError("the remote signer's eth_signTypedData signature is not this account's");
    }
    return signature;
  }

  toJSON(): { address: string; signer: string } {
    return { address: this.address, signer: this.#client.url };
  }
}

/** The role keys of a Web3Signer: `accounts` names the account of each role. */
export function createWeb3SignerRoleSigners(
  client: Web3SignerClient,
  accounts: Record<PlatformRole, string>,
): RoleSigners & { checkAccounts(): Promise<void> } {
  const addresses = Object.fromEntries(PLATFORM_ROLES.map((role) => [role, getAddress(accounts[role])])) as Record<
    PlatformRole,
    string
  >;
  return {
    kind: "web3signer",
    address: (role) => addresses[role],
    signer: (role, provider) => new RemoteSigner(addresses[role], client, provider),
    /** Refuses when the signer does not hold the key of every role's account (a wrong setting, or a wrong signer). */
    async checkAccounts() {
      const served = new Set((await client.accounts()).map((account) => getAddress(account)));
      const missing = PLATFORM_ROLES.filter((role) => !served.has(addresses[role]));
      if (missing.length > 0) {
        throw new RemoteSignerError(
          `the remote signer at ${client.url} holds no key for ` +
            missing.map((role) => `${ROLE_ACCOUNT_VARIABLES[role]} (${addresses[role]})`).join(", ") +
            `; it signs for ${[...served].join(", ") || "no account"}`,
        );
      }
    },
  };
}

/** The role accounts named by ROLE_ACCOUNT_* (all set: the configuration checked that for web3signer). */
function configuredRoleAccounts(config: Config): Partial<Record<PlatformRole, string>> {
  const accounts: Partial<Record<PlatformRole, string>> = {};
  for (const role of PLATFORM_ROLES) {
    const value = config.env[ROLE_ACCOUNT_VARIABLES[role]];
    if (value !== undefined) accounts[role] = value;
  }
  return accounts;
}

/**
 * The role keys as configured (ROLE_SIGNER), without talking to any signer: the
 * role addresses are known from the configuration alone. With ROLE_SIGNER=mnemonic,
 * a ROLE_ACCOUNT_* that is set must be the address derived from WALLET_MNEMONIC.
 */
export function roleSignersFromConfig(config: Config): RoleSigners & { checkAccounts(): Promise<void> } {
  const env = config.env;
  const accounts = configuredRoleAccounts(config);
  if (env.ROLE_SIGNER === "web3signer") {
    const client = createWeb3SignerClient(env.WEB3SIGNER_URL!, env.WEB3SIGNER_TIMEOUT_MS);
    return createWeb3SignerRoleSigners(client, accounts as Record<PlatformRole, string>);
  }
  const local = createMnemonicRoleSigners(config.secrets.walletMnemonic);
  const wrong = PLATFORM_ROLES.filter(
    (role) => accounts[role] !== undefined && getAddress(accounts[role]) !== local.address(role),
  );
  if (wrong.length > 0) {
    throw new RemoteSignerError(
      `ROLE_SIGNER=mnemonic derives other accounts than ${wrong.map((role) => ROLE_ACCOUNT_VARIABLES[role]).join(", ")} ` +
        `name (${wrong.map((role) => `${role}: ${local.address(role)}`).join(", ")}); fix or unset them`,
    );
  }
  return { ...local, checkAccounts: async () => undefined };
}

/**
 * The server's key custody as configured: collector keys from WALLET_MNEMONIC,
 * role keys from ROLE_SIGNER. With a remote signer, refuses to start when the
 * signer answers but does not hold every role's key; an unreachable signer is
 * reported through `onUnreachable` (transactions wait and are retried, as with
 * an unreachable chain).
 */
export async function openCustody(
  config: Config,
  onUnreachable: (error: Error) => void = (error) => console.warn(`[custody] ${error.message}`),
): Promise<KeyCustody> {
  const roles = roleSignersFromConfig(config);
  try {
    await roles.checkAccounts();
  } catch (error) {
    const unreachable = error instanceof RemoteSignerError && /did not answer/.test(error.message);
    if (!unreachable) throw error;
    onUnreachable(error);
  }
  return createCustody(config.secrets.walletMnemonic, roles);
}
