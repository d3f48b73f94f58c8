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
 * addresses and signers; no key ever leaves this file, reaches a log, an
 * error or the database. A KMS or HSM adapter implements the same
 * interface (its signer calls the device instead of holding a key).
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

/** In-process custody from one BIP-39 seed (development and tests). */
export function createSeedCustody(mnemonic: string): KeyCustody {
  const collectors = HDNodeWallet.fromPhrase(mnemonic, undefined, COLLECTOR_PATH);
  const platform = HDNodeWallet.fromPhrase(mnemonic, undefined, PLATFORM_PATH);
  const issuers = HDNodeWallet.fromPhrase(mnemonic, undefined, ISSUER_PATH);
  const addresses = new Map<number, string>();

  const collectorWallet = (index: number) => {
    if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** 31) throw new Error("invalid derivation index");
    const node = collectors.deriveChild(index);
    return new Wallet(node.privateKey);
  };
  const platformWallet = (role: PlatformRole) =>
    new Wallet(platform.deriveChild(PLATFORM_ROLES.indexOf(role)).privateKey);

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
    platformAddress: (role) => platformWallet(role).address,
    platformSigner: (role, provider) => new CustodySigner(platformWallet(role), provider),
  };
}
