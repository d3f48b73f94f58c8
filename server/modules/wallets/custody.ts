import {
  AbstractSigner,
  HDNodeWallet,
  type Provider,
  type TransactionLike,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
  Wallet,
} from "ethers";

/**
 * Key custody: where the platform's private keys live. Everything else gets
 * addresses and signers; no key ever leaves custody, reaches a log, an error
 * or the database.
 *
 * Two kinds of keys, from two separate sources:
 * - collector keys (custodial addresses of verified collectors, and issuer
 *   addresses): derived from WALLET_MNEMONIC, in this process;
 * - role keys (the accounts holding the AccessManager roles, which bind
 *   identities, freeze, publish and mint): a {@link RoleSigners} source, either
 *   the same HD wallet (`ROLE_SIGNER=mnemonic`: development, tests, and
 *   production only when ALLOW_MNEMONIC_ROLE_KEYS=true) or a remote signer
 *   that holds the keys in its own vault or HSM (`ROLE_SIGNER=web3signer`,
 *   `remote-signer.ts`).
 */
export type PlatformRole = "kycOperator" | "compliance" | "publisher" | "platformAdmin" | "minter";

export const PLATFORM_ROLES: readonly PlatformRole[] = [
  "kycOperator",
  "compliance",
  "publisher",
  "platformAdmin",
  "minter",
];

export interface KeyCustody {
  /** The custodial address of the collector account with derivation index `index`. */
  collectorAddress(index: number): string;
  /** A signer for that address. */
  collectorSigner(index: number, provider: Provider): AbstractSigner;
  /** The on-chain issuer address of issuer organisation `issuerId` (named in its collections). */
  issuerAddress(issuerId: number): string;
  /** The address the platform uses for `role`. */
  platformAddress(role: PlatformRole): string;
  platformSigner(role: PlatformRole, provider: Provider): AbstractSigner;
}

/**
 * Where the role keys are: the address of each role and a signer for it. The
 * local HD wallet ({@link createMnemonicRoleSigners}) and the Web3Signer
 * client (`createWeb3SignerRoleSigners` in remote-signer.ts) implement it.
 */
export interface RoleSigners {
  /** `mnemonic` or `web3signer`: shown at start and by `npm run deploy:params`. */
  readonly kind: "mnemonic" | "web3signer";
  address(role: PlatformRole): string;
  signer(role: PlatformRole, provider: Provider): AbstractSigner;
}

/** BIP-44 paths: collectors on account 0, platform roles on account 1, issuers on account 2. */
export const COLLECTOR_PATH = "m/44'/60'/0'/0";
export const PLATFORM_PATH = "m/44'/60'/1'/0";
export const ISSUER_PATH = "m/44'/60'/2'/0";

/**
 * A signer that holds its key in a private field: unlike an ethers Wallet it
 * exposes no `privateKey`, so nothing outside custody can read it.
 */
class CustodySigner extends AbstractSigner {
  readonly #wallet: Wallet;

  constructor(wallet: Wallet, provider: Provider | null) {
    super(provider);
    this.#wallet = provider === null ? wallet : wallet.connect(provider);
  }

  override async getAddress(): Promise<string> {
    return this.#wallet.address;
  }

  override connect(provider: Provider | null): CustodySigner {
    return new CustodySigner(this.#wallet, provider);
  }

  override signTransaction(tx: TransactionRequest): Promise<string> {
    return this.#wallet.signTransaction(tx as TransactionLike<string>);
  }

  override signMessage(message: string | Uint8Array): Promise<string> {
    return this.#wallet.signMessage(message);
  }

  override signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    return this.#wallet.signTypedData(domain, types, value);
  }

  /** Never print a key, even by accident. */
  toJSON(): { address: string } {
    return { address: this.#wallet.address };
  }
}

/** The role keys held in this process, derived from a BIP-39 seed on {@link PLATFORM_PATH}. */
export function createMnemonicRoleSigners(mnemonic: string): RoleSigners {
  const platform = HDNodeWallet.fromPhrase(mnemonic, undefined, PLATFORM_PATH);
  const platformWallet = (role: PlatformRole) => {
    const index = PLATFORM_ROLES.indexOf(role);
    if (index < 0) throw new Error(`unknown platform role ${String(role)}`);
    return new Wallet(platform.deriveChild(index).privateKey);
  };
  return {
    kind: "mnemonic",
    address: (role) => platformWallet(role).address,
    signer: (role, provider) => new CustodySigner(platformWallet(role), provider),
  };
}

/**
 * Custody with collector and issuer keys from `mnemonic` (in this process) and
 * role keys from `roles` (the same seed when omitted).
 */
export function createCustody(mnemonic: string, roles: RoleSigners = createMnemonicRoleSigners(mnemonic)): KeyCustody {
  const collectors = HDNodeWallet.fromPhrase(mnemonic, undefined, COLLECTOR_PATH);
  const issuers = HDNodeWallet.fromPhrase(mnemonic, undefined, ISSUER_PATH);
  const addresses = new Map<number, string>();

  const collectorWallet = (index: number) => {
    if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** 31) throw new Error("invalid derivation index");
    const node = collectors.deriveChild(index);
    return new Wallet(node.privateKey);
  };

  return {
    collectorAddress(index) {
      let address = addresses.get(index);
      if (address === undefined) {
        address = collectorWallet(index).address;
        addresses.set(index, address);
      }
      return address;
    },
    collectorSigner: (index, provider) => new CustodySigner(collectorWallet(index), provider),
    issuerAddress: (issuerId) => issuers.deriveChild(issuerId).address,
    platformAddress: (role) => roles.address(role),
    platformSigner: (role, provider) => roles.signer(role, provider),
  };
}

/**
 * Every key from one BIP-39 seed, held in this process: collectors, issuers
 * and the role keys. What `npm start`, `npm run dev` and the tests run; in
 * production the server uses it only with ALLOW_MNEMONIC_ROLE_KEYS=true
 * (otherwise the role keys come from a remote signer, {@link createCustody}).
 */
export function createSeedCustody(mnemonic: string): KeyCustody {
  return createCustody(mnemonic);
}
