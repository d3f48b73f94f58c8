import { BrowserProvider, Wallet, getAddress, id, verifyMessage, verifyTypedData } from "ethers";
import { network } from "hardhat";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import PlatformModule from "../../ignition/modules/Platform.js";
import { createChain } from "../../server/chain/client.js";
import { PLATFORM_ROLES, type PlatformRole, createCustody } from "../../server/modules/wallets/custody.js";
import {
  RemoteSigner,
  createWeb3SignerClient,
  createWeb3SignerRoleSigners,
  openCustody,
  roleSignersFromConfig,
} from "../../server/modules/wallets/remote-signer.js";
import { testConfig } from "./helpers.js";
import { type Web3SignerStandIn, startWeb3SignerStandIn } from "./stand-ins/web3signer.js";

/** One key per role, held only by the signer stand-in (the server never sees them). */
const roleKeys = Object.fromEntries(PLATFORM_ROLES.map((role) => [role, Wallet.createRandom().privateKey])) as Record<
  PlatformRole,
  string
>;
const roleAccounts = Object.fromEntries(
  PLATFORM_ROLES.map((role) => [role, new Wallet(roleKeys[role]).address]),
) as Record<PlatformRole, string>;
const roleAccountEnv = {
  ROLE_ACCOUNT_KYC_OPERATOR: roleAccounts.kycOperator,
  ROLE_ACCOUNT_COMPLIANCE: roleAccounts.compliance,
  ROLE_ACCOUNT_PUBLISHER: roleAccounts.publisher,
  ROLE_ACCOUNT_PLATFORM_ADMIN: roleAccounts.platformAdmin,
  ROLE_ACCOUNT_MINTER: roleAccounts.minter,
};

describe("role key settings", () => {
  it("defaults to the mnemonic outside production and derives the same role accounts as before", () => {
    const config = testConfig();
    expect(config.env.ROLE_SIGNER).toBe("mnemonic");
    const roles = roleSignersFromConfig(config);
    expect(roles.kind).toBe("mnemonic");
    const seed = createCustody(config.secrets.walletMnemonic);
    for (const role of PLATFORM_ROLES) expect(roles.address(role)).toBe(seed.platformAddress(role));
  });

  it("refuses a mnemonic for role keys in production unless explicitly allowed, naming the setting", () => {
    const production = { NODE_ENV: "production", KYC_PROVIDER: "http", PAYMENT_PROVIDER: "alipay" };
    expect(() => testConfig(production)).toThrowError(
      /ROLE_SIGNER: production keeps the role keys out of the server; set ROLE_SIGNER=web3signer .*ALLOW_MNEMONIC_ROLE_KEYS=true/,
    );
    expect(() => testConfig({ ...production, ALLOW_MNEMONIC_ROLE_KEYS: "true" })).not.toThrowError(/ROLE_SIGNER/);
    expect(() => testConfig({ ...production, ROLE_SIGNER: "web3signer" })).not.toThrowError(/ROLE_SIGNER:/);
  });

  it("needs the signer's URL and every role's account, one account per role", () => {
    expect(() => testConfig({ ROLE_SIGNER: "web3signer" })).toThrowError(
      /WEB3SIGNER_URL: required when ROLE_SIGNER=web3signer[\s\S]*ROLE_ACCOUNT_KYC_OPERATOR: required when ROLE_SIGNER=web3signer/,
    );
    expect(() =>
      testConfig({
        ROLE_SIGNER: "web3signer",
        WEB3SIGNER_URL: "http://127.0.0.1:9000",
        ...roleAccountEnv,
        ROLE_ACCOUNT_MINTER: roleAccounts.kycOperator.toLowerCase(),
      }),
    ).toThrowError(/ROLE_ACCOUNT_MINTER: the same account as ROLE_ACCOUNT_KYC_OPERATOR/);
    expect(() => testConfig({ ROLE_ACCOUNT_MINTER: "0x1234" })).toThrowError(/ROLE_ACCOUNT_MINTER: must be an account/);
    const config = testConfig({
      ROLE_SIGNER: "web3signer",
      WEB3SIGNER_URL: "http://127.0.0.1:9000",
      ...roleAccountEnv,
    });
    const roles = roleSignersFromConfig(config);
    expect(roles.kind).toBe("web3signer");
    expect(roles.address("minter")).toBe(roleAccounts.minter);
  });

  it("refuses role accounts the mnemonic does not derive", () => {
    expect(() => roleSignersFromConfig(testConfig({ ROLE_ACCOUNT_MINTER: roleAccounts.minter }))).toThrowError(
      /ROLE_SIGNER=mnemonic derives other accounts than ROLE_ACCOUNT_MINTER/,
    );
  });
});

describe("the Web3Signer client against a stand-in", () => {
  let standIn: Web3SignerStandIn;
  const chainId = 31337n;

  beforeAll(async () => {
    standIn = await startWeb3SignerStandIn({ privateKeys: Object.values(roleKeys), chainId });
  });
  afterAll(() => standIn.close());

  const tx = { to: roleAccounts.minter, nonce: 7, gasLimit: 50_000n, gasPrice: 0n, chainId, data: "0x1234" };

  it("signs a transaction with the role's key, and checks it is the one asked for", async () => {
    const signer = new RemoteSigner(roleAccounts.kycOperator, createWeb3SignerClient(standIn.url));
    const raw = await signer.signTransaction(tx);
    const { Transaction } = await import("ethers");
    const signed = Transaction.from(raw);
    expect(signed.from).toBe(roleAccounts.kycOperator);
    expect(signed.chainId).toBe(chainId);
    expect(signed.nonce).toBe(7);
    const request = standIn.requests.at(-1)!;
    expect(request.method).toBe("eth_signTransaction");
    expect(request.params[0]).toEqual({
      from: roleAccounts.kycOperator,
      to: roleAccounts.minter,
      gas: "0xc350",
      gasPrice: "0x0",
      value: "0x0",
      data: "0x1234",
      nonce: "0x7",
    });
    // EIP-1559 fields when the transaction carries them.
    const dynamic = Transaction.from(
      await signer.signTransaction({ ...tx, gasPrice: undefined, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n }),
    );
    expect(dynamic.type).toBe(2);
  });

  it("refuses an account the signer holds no key for", async () => {
    const stranger = new RemoteSigner(Wallet.createRandom().address, createWeb3SignerClient(standIn.url));
    await expect(stranger.signTransaction(tx)).rejects.toThrowError(/the remote signer refused eth_signTransaction/);
  });

  it("refuses a signature for another chain, or another transaction than asked", async () => {
    const signer = new RemoteSigner(roleAccounts.kycOperator, createWeb3SignerClient(standIn.url));
    await expect(signer.signTransaction({ ...tx, chainId: 20261124n })).rejects.toThrowError(
      /signed for chain id 31337, the chain is 20261124: start Web3Signer with --chain-id=20261124/,
    );
    standIn.tamper = (transaction) => {
      transaction.to = roleAccounts.compliance;
    };
    try {
      await expect(signer.signTransaction(tx)).rejects.toThrowError(/signed another transaction than asked \(to\)/);
    } finally {
      standIn.tamper = null;
    }
  });

  it("signs messages and typed data through eth_sign and eth_signTypedData", async () => {
    const signer = new RemoteSigner(roleAccounts.platformAdmin, createWeb3SignerClient(standIn.url));
    expect(verifyMessage("数藏", await signer.signMessage("数藏"))).toBe(roleAccounts.platformAdmin);
    const domain = { name: "Shuzang", version: "1", chainId };
    const types = { Note: [{ name: "text", type: "string" }] };
    const signature = await signer.signTypedData(domain, types, { text: "hello" });
    expect(verifyTypedData(domain, types, { text: "hello" }, signature)).toBe(roleAccounts.platformAdmin);
  });

  it("checks at start that the signer holds every role's key, naming the missing setting", async () => {
    const partial = await startWeb3SignerStandIn({
      privateKeys: PLATFORM_ROLES.filter((role) => role !== "minter").map((role) => roleKeys[role]),
      chainId,
    });
    try {
      const config = testConfig({ ROLE_SIGNER: "web3signer", WEB3SIGNER_URL: partial.url, ...roleAccountEnv });
      await expect(openCustody(config)).rejects.toThrowError(
        new RegExp(`holds no key for ROLE_ACCOUNT_MINTER \\(${roleAccounts.minter}\\)`),
      );
      const full = testConfig({ ROLE_SIGNER: "web3signer", WEB3SIGNER_URL: standIn.url, ...roleAccountEnv });
      const custody = await openCustody(full);
      expect(custody.platformAddress("minter")).toBe(roleAccounts.minter);
      // Collector keys still come from WALLET_MNEMONIC, in this process.
      expect(custody.collectorAddress(1)).toBe(createCustody(full.secrets.walletMnemonic).collectorAddress(1));
    } finally {
      await partial.close();
    }
    // An unreachable signer is reported, not fatal: transactions wait and are retried.
    const warnings: string[] = [];
    const offline = testConfig({
      ROLE_SIGNER: "web3signer",
      WEB3SIGNER_URL: "http://127.0.0.1:9",
      WEB3SIGNER_TIMEOUT_MS: "500",
      ...roleAccountEnv,
    });
    await openCustody(offline, (error) => warnings.push(error.message));
    expect(warnings[0]).toMatch(/the remote signer at http:\/\/127.0.0.1:9 did not answer eth_accounts/);
  });
});

describe("a chain transaction signed by the remote signer", () => {
  it("binds an identity on the in-process chain as the KYC operator, its key only in the signer", async () => {
    const connection = await network.create();
    const provider = new BrowserProvider(connection.provider);
    const { chainId } = await provider.getNetwork();
    const standIn = await startWeb3SignerStandIn({ privateKeys: Object.values(roleKeys), chainId });
    try {
      const deployed = await connection.ignition.deploy(PlatformModule, { parameters: { Platform: roleAccounts } });
      const config = testConfig({ ROLE_SIGNER: "web3signer", WEB3SIGNER_URL: standIn.url, ...roleAccountEnv });
      const roles = createWeb3SignerRoleSigners(createWeb3SignerClient(standIn.url), roleAccounts);
      const custody = createCustody(config.secrets.walletMnemonic, roles);
      const chain = createChain({
        provider,
        addresses: {
          accessManager: await deployed.accessManager.getAddress(),
          identityRegistry: await deployed.identityRegistry.getAddress(),
          collectionFactory: await deployed.factory.getAddress(),
        },
        custody,
        confirmations: 1,
        gasPrice: 0n,
      });
      const collector = custody.collectorAddress(42);
      expect(await chain.registry.isVerified(collector)).toBe(false);
      const expiresAt = BigInt(Math.floor(Date.now() / 1000) + 86_400 * 365);
      const receipt = await chain.send("kycOperator", ({ registry }, overrides) =>
        registry.bind(collector, id("identity:remote"), 2, expiresAt, overrides),
      );
      expect(receipt.status).toBe(1);
      expect(getAddress(receipt.from)).toBe(roleAccounts.kycOperator);
      expect(await chain.registry.isVerified(collector)).toBe(true);
      expect(standIn.requests.filter((r) => r.method === "eth_signTransaction")).toHaveLength(1);

      // Another role's account may not bind: the chain refuses, whoever signs.
      await expect(
        chain.send("publisher", ({ registry }, overrides) =>
          registry.bind(custody.collectorAddress(43), id("identity:other"), 2, expiresAt, overrides),
        ),
      ).rejects.toThrowError();
    } finally {
      await standIn.close();
      await connection.close();
    }
  });
});
