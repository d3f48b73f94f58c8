import { ZeroAddress, id } from "ethers";
import { beforeEach, describe, expect, it } from "vitest";

import { Roles, selector } from "../../ignition/roles.js";
import { createCollection, deployPlatform, terms, type Platform } from "./fixture.js";
import { expectRevert } from "./revert.js";

describe("CollectionFactory", () => {
  let platform: Platform;

  beforeEach(async () => {
    platform = await deployPlatform();
  });

  it("creates a collection for the publisher, with the platform's registry and minter, and lists it", async () => {
    const { factory, accounts } = platform;
    const receipt = await (await factory.connect(accounts.publisher).createCollection(terms(platform))).wait();
    const event = receipt!.logs
      .map((log) => factory.interface.parseLog(log))
      .find((e) => e?.name === "CollectionCreated")!;
    const address = event.args.collection as string;
    expect(event.args.issuer).toBe(accounts.publisher.address);
    expect(event.args.index).toBe(0n);
    expect(await factory.isCollection(address)).toBe(true);
    expect(await factory.collectionCount()).toBe(1n);
    expect(await factory.collectionAt(0)).toBe(address);
    const collection = await platform.ethers.getContractAt("Collection", address);
    expect(await collection.identityRegistry()).toBe(await platform.registry.getAddress());
    expect(await collection.minter()).toBe(accounts.minter.address);
    expect(await collection.authority()).toBe(await factory.getAddress());
  });

  it("refuses anyone but the publisher", async () => {
    await expectRevert(
      platform.factory.connect(platform.accounts.others[0]!).createCollection(terms(platform)),
      platform.factory,
      "AccessManagedUnauthorized",
    );
  });

  it("refuses a lock below 180 days and a re-gift lock below the platform minimum", async () => {
    const asPublisher = platform.factory.connect(platform.accounts.publisher);
    await expectRevert(
      asPublisher.createCollection(terms(platform, { lockDays: 179 })),
      platform.factory,
      "FactoryLockBelowMinimum",
      [179n, 180n],
    );
    await expectRevert(
      asPublisher.createCollection(terms(platform, { regiftDays: 729 })),
      platform.factory,
      "FactoryRegiftBelowMinimum",
      [729n, 730n],
    );
    const longer = await createCollection(platform, { lockDays: 365, regiftDays: 1000 });
    expect(await longer.lockPeriod()).toBe(365n * 86400n);
  });

  it("refuses collections with no edition, no media hash or no issuer", async () => {
    const asPublisher = platform.factory.connect(platform.accounts.publisher);
    const collection = platform.implementation;
    await expectRevert(
      asPublisher.createCollection(terms(platform, { maxSupply: 0 })),
      collection,
      "CollectionZeroSupply",
    );
    await expectRevert(
      asPublisher.createCollection(terms(platform, { contentHash: "0x" + "00".repeat(32) })),
      collection,
      "CollectionInvalidTerms",
    );
    await expectRevert(
      asPublisher.createCollection(terms(platform, { issuer: ZeroAddress })),
      collection,
      "CollectionInvalidTerms",
    );
  });

  it("enforces the 180-day floor and re-gift ≥ lock in the collection itself", async () => {
    // A factory misconfigured below the floor cannot be deployed at all.
    const { ethers, manager, implementation, accounts } = platform;
    const args = [await manager.getAddress(), await implementation.getAddress()];
    await expectRevert(
      ethers.deployContract("CollectionFactory", [...args, 179, 730, accounts.minter.address]),
      platform.factory,
      "FactoryInvalidConfiguration",
    );
    await expectRevert(
      ethers.deployContract("CollectionFactory", [...args, 180, 179, accounts.minter.address]),
      platform.factory,
      "FactoryInvalidConfiguration",
    );
    await expectRevert(
      ethers.deployContract("CollectionFactory", [...args, 180, 730, ZeroAddress]),
      platform.factory,
      "FactoryInvalidConfiguration",
    );
    // A factory with a re-gift minimum below its lock minimum is refused, so a collection can only
    // see regiftDays < lockDays through its own check:
    const loose = await ethers.deployContract("CollectionFactory", [...args, 180, 180, accounts.minter.address]);
    await manager.setTargetFunctionRole(
      await loose.getAddress(),
      [selector("createCollection((string,string,address,uint24,uint16,uint16,bytes32,string))")],
      Roles.PUBLISHER,
    );
    await expectRevert(
      loose.connect(accounts.publisher).createCollection(terms(platform, { lockDays: 200, regiftDays: 190 })),
      implementation,
      "CollectionRegiftBelowLock",
      [190n, 200n],
    );
    expect(await implementation.LOCK_FLOOR_DAYS()).toBe(180n);
  });

  it("answers canCall for its collections only, from the AccessManager's role members without delay", async () => {
    const { factory, accounts, manager } = platform;
    const collection = await createCollection(platform);
    const pause = selector("pause(uint32)");
    expect(await factory.canCall(accounts.compliance.address, await collection.getAddress(), pause)).toBe(true);
    expect(await factory.canCall(accounts.kyc.address, await collection.getAddress(), pause)).toBe(false);
    expect(await factory.canCall(accounts.compliance.address, accounts.kyc.address, pause)).toBe(false);
    expect(await factory.canCall(accounts.compliance.address, await collection.getAddress(), "0x12345678")).toBe(false);
    expect(await factory.collectionFunctionRole(pause)).toEqual([true, Roles.COMPLIANCE]);
    expect(await factory.collectionFunctionRole("0x12345678")).toEqual([false, 0n]);

    // A member whose role has an execution delay is refused: collections do not schedule.
    const delayed = accounts.others[0]!;
    await manager.grantRole(Roles.COMPLIANCE, delayed.address, 3600);
    expect(await factory.canCall(delayed.address, await collection.getAddress(), pause)).toBe(false);
    await expectRevert(collection.connect(delayed).pause(1), collection, "AccessManagedUnauthorized");
  });

  it("lets the platform admin map collection functions to roles and change the default minter", async () => {
    const { factory, accounts } = platform;
    await expectRevert(
      factory.connect(accounts.publisher).setCollectionFunctionRole(["0x12345678"], 2),
      factory,
      "AccessManagedUnauthorized",
    );
    await factory.connect(accounts.deployer).setCollectionFunctionRole(["0x12345678"], 2);
    expect(await factory.collectionFunctionRole("0x12345678")).toEqual([true, 2n]);

    await expectRevert(
      factory.connect(accounts.publisher).setDefaultMinter(accounts.publisher.address),
      factory,
      "AccessManagedUnauthorized",
    );
    await expectRevert(
      factory.connect(accounts.platformAdmin).setDefaultMinter(ZeroAddress),
      factory,
      "FactoryInvalidConfiguration",
    );
    await factory.connect(accounts.platformAdmin).setDefaultMinter(accounts.others[1]!.address);
    expect(await factory.defaultMinter()).toBe(accounts.others[1]!.address);
    const collection = await createCollection(platform, { contentHash: id("new") });
    expect(await collection.minter()).toBe(accounts.others[1]!.address);
    expect(await factory.minLockDays()).toBe(180n);
    expect(await factory.minRegiftDays()).toBe(730n);
    expect(await factory.implementation()).toBe(await platform.implementation.getAddress());
  });
});

describe("Platform deployment module", () => {
  it("wires every role to the accounts given as parameters and labels them", async () => {
    const platform = await deployPlatform();
    const { manager, registry, factory, accounts } = platform;
    const hasRole = async (role: bigint, who: string) => (await manager.hasRole(role, who))[0];
    expect(await hasRole(Roles.KYC_OPERATOR, accounts.kyc.address)).toBe(true);
    expect(await hasRole(Roles.COMPLIANCE, accounts.compliance.address)).toBe(true);
    expect(await hasRole(Roles.PUBLISHER, accounts.publisher.address)).toBe(true);
    expect(await hasRole(Roles.PLATFORM_ADMIN, accounts.platformAdmin.address)).toBe(true);
    expect(await hasRole(Roles.ADMIN, accounts.deployer.address)).toBe(true);
    expect(await hasRole(Roles.KYC_OPERATOR, accounts.compliance.address)).toBe(false);
    const registryAddress = await registry.getAddress();
    expect(await manager.getTargetFunctionRole(registryAddress, selector("bind(address,bytes32,uint8,uint64)"))).toBe(
      Roles.KYC_OPERATOR,
    );
    expect(await manager.getTargetFunctionRole(registryAddress, selector("freeze(address,uint32)"))).toBe(
      Roles.COMPLIANCE,
    );
    expect(await manager.getTargetFunctionRole(await factory.getAddress(), selector("setDefaultMinter(address)"))).toBe(
      Roles.PLATFORM_ADMIN,
    );
    expect(await factory.defaultMinter()).toBe(accounts.minter.address);
  });
});
