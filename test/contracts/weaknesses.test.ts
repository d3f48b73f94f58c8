/**
 * One test per weakness of the address-based design (each fails on the contracts before
 * "identity is the unit", and passes now), plus the standards in form and the takedown.
 */
import { ZeroAddress, id } from "ethers";
import { beforeEach, describe, expect, it } from "vitest";

import { Roles, selector } from "../../ignition/roles.js";
import {
  DAY,
  LOCK,
  REGIFT,
  commitmentOf,
  createCollection,
  deployPlatform,
  mineAt,
  now,
  setNextTimestamp,
  verify,
  type Platform,
} from "./fixture.js";
import { expectRevert } from "./revert.js";

type Collection = Awaited<ReturnType<typeof createCollection>>;
type Signer = Platform["accounts"]["deployer"];

describe("identity is the unit, locks never shorten, standards in form", () => {
  let platform: Platform;
  let collection: Collection;
  let alice: Signer;
  let bob: Signer;
  let carol: Signer;
  let bob2: Signer;
  let stranger: Signer;
  let expiresAt: bigint;

  beforeEach(async () => {
    platform = await deployPlatform();
    [alice, bob, carol, bob2, stranger] = platform.accounts.others as [Signer, Signer, Signer, Signer, Signer];
    await verify(platform, alice, bob, carol);
    expiresAt = (await now(platform.ethers)) + 3650n * DAY;
    // bob2 is a second wallet of the same person as bob.
    await kyc().bind(bob2.address, commitmentOf(bob.address), 1, expiresAt);
    collection = await createCollection(platform, { maxSupply: 500 });
  });

  const kyc = () => platform.registry.connect(platform.accounts.kyc);
  const compliance = () => platform.registry.connect(platform.accounts.compliance);
  const asMinter = () => collection.connect(platform.accounts.minter);
  const asCompliance = () => collection.connect(platform.accounts.compliance);

  async function mintTo(holder: string, quantity = 1) {
    const first = await collection.nextTokenId();
    const receipt = await (await asMinter().mint(holder, quantity, first, 1)).wait();
    const block = await platform.ethers.provider.getBlock(receipt!.blockNumber);
    return { tokenId: first, at: BigInt(block!.timestamp), receipt: receipt! };
  }

  /** Mints to alice and gifts to bob once the lock has passed: bob holds it under the 2-year re-gift lock. */
  async function giftedToBob() {
    const { tokenId, at } = await mintTo(alice.address);
    await setNextTimestamp(platform.ethers, at + LOCK);
    await collection.connect(alice).transferFrom(alice.address, bob.address, tokenId);
    return { tokenId, giftedAt: at + LOCK };
  }

  describe("weakness: recovery shortened the re-gift lock", () => {
    it("keeps acquisition time and lock kind on a recovery to another wallet of the same person", async () => {
      const { tokenId, giftedAt } = await giftedToBob();
      expect(await collection.unlocksAt(tokenId)).toBe(giftedAt + REGIFT);
      await mineAt(platform.ethers, giftedAt + 10n * DAY);
      const receipt = await (await asCompliance().forceTransfer(tokenId, bob2.address, 3)).wait();
      expect(await collection.ownerOf(tokenId)).toBe(bob2.address);
      expect(await collection.acquisitionOf(tokenId)).toEqual([1n, giftedAt]);
      expect(await collection.unlocksAt(tokenId)).toBe(giftedAt + REGIFT);
      const reason = receipt!.logs
        .map((log) => collection.interface.parseLog(log))
        .find((e) => e?.name === "ForcedTransferReason")!;
      expect(reason.args.toArray()).toEqual([tokenId, 3n, true]);
    });

    it("keeps the lock on a forced transfer to the same holder", async () => {
      const { tokenId, giftedAt } = await giftedToBob();
      await asCompliance().forceTransfer(tokenId, bob.address, 3);
      expect(await collection.acquisitionOf(tokenId)).toEqual([1n, giftedAt]);
      expect(await collection.unlocksAt(tokenId)).toBe(giftedAt + REGIFT);
      expect(await collection.balanceOf(bob.address)).toBe(1n);
    });

    it("gives another person the re-gift lock from now, never less than what remained", async () => {
      const { tokenId, giftedAt } = await giftedToBob();
      const before = await collection.unlocksAt(tokenId);
      await setNextTimestamp(platform.ethers, giftedAt + DAY);
      await asCompliance().forceTransfer(tokenId, carol.address, 4);
      expect(await collection.acquisitionOf(tokenId)).toEqual([2n, giftedAt + DAY]);
      expect(await collection.unlocksAt(tokenId)).toBe(giftedAt + DAY + REGIFT);
      expect(await collection.unlocksAt(tokenId)).toBeGreaterThan(before);
    });

    it("only lengthens a lock on a self-transfer", async () => {
      const { tokenId, at } = await mintTo(alice.address);
      await setNextTimestamp(platform.ethers, at + LOCK);
      await collection.connect(alice).transferFrom(alice.address, alice.address, tokenId);
      expect(await collection.unlocksAt(tokenId)).toBe(at + LOCK + REGIFT);
    });
  });

  describe("weakness: an address could change owner without a transfer", () => {
    it("never binds a revoked address to another identity, so its tokens stay with the same person", async () => {
      const { tokenId } = await mintTo(alice.address);
      await kyc().revoke(alice.address, 2);
      await expectRevert(
        kyc().bind(alice.address, commitmentOf("someone else"), 1, expiresAt),
        platform.registry,
        "IdentityRegistryBoundToOtherIdentity",
        [alice.address, commitmentOf(alice.address)],
      );
      expect(await platform.registry.identityOf(alice.address)).toBe(commitmentOf(alice.address));
      expect(await collection.ownerOf(tokenId)).toBe(alice.address);
      // Bound again to the same identity: same holder number, same tokens.
      await kyc().bind(alice.address, commitmentOf(alice.address), 1, expiresAt);
      expect(await collection.ownerOf(tokenId)).toBe(alice.address);
      expect(await collection.balanceOf(alice.address)).toBe(1n);
    });

    it("counts only addresses bound now against the cap; a revoked address's tokens stay put and unmovable", async () => {
      const person = commitmentOf(bob.address);
      expect(await platform.registry.addressCountOf(person)).toBe(2n);
      const { tokenId, at } = await mintTo(bob.address);
      await kyc().bind(stranger.address, person, 1, expiresAt);
      await expectRevert(
        kyc().bind(platform.accounts.others[6]!.address, person, 1, expiresAt),
        platform.registry,
        "IdentityRegistryTooManyAddresses",
        [person, 3n],
      );
      await kyc().revoke(bob.address, 7);
      expect(await platform.registry.addressCountOf(person)).toBe(2n);
      expect(await platform.registry.addressesOf(person)).not.toContain(bob.address);
      const binding = await platform.registry.bindingOf(bob.address);
      expect([binding.commitment, binding.active, binding.holderId]).toEqual([person, false, 2n]);
      // Freed one place: another wallet may be bound.
      await kyc().bind(platform.accounts.others[6]!.address, person, 1, expiresAt);
      // The token stays at the revoked address and cannot be sent by it...
      await mineAt(platform.ethers, at + LOCK);
      expect(await collection.ownerOf(tokenId)).toBe(bob.address);
      await expectRevert(
        collection.connect(bob).transferFrom(bob.address, carol.address, tokenId),
        collection,
        "ERC7943CannotSend",
        [bob.address],
      );
      // ...until the compliance role recovers it to the same person, lock kept.
      await asCompliance().forceTransfer(tokenId, bob2.address, 8);
      expect(await collection.ownerOf(tokenId)).toBe(bob2.address);
      expect(await collection.acquisitionOf(tokenId)).toEqual([0n, at]);
      // A revoked address bound again takes a place under the cap again (the cap is full: refused).
      await expectRevert(
        kyc().bind(bob.address, person, 1, expiresAt),
        platform.registry,
        "IdentityRegistryTooManyAddresses",
        [person, 3n],
      );
    });
  });

  describe("weakness: a freeze was per address, not per person", () => {
    it("freezes every address of the person, and every address bound to them later", async () => {
      const person = commitmentOf(bob.address);
      const receipt = await (await compliance().freezeIdentity(person, 21)).wait();
      expect(platform.registry.interface.parseLog(receipt!.logs[0]!)?.args.toArray()).toEqual([person, 21n]);
      expect(await platform.registry.isIdentityFrozen(person)).toBe(true);
      for (const wallet of [bob, bob2]) {
        expect(await platform.registry.isVerified(wallet.address)).toBe(false);
        await expectRevert(asMinter().mint(wallet.address, 1, 1, 1), collection, "CollectionUnverifiedAccount", [
          wallet.address,
        ]);
      }
      await kyc().bind(stranger.address, person, 1, expiresAt);
      expect(await platform.registry.isVerified(stranger.address)).toBe(false);
      expect((await platform.registry.bindingOf(stranger.address)).identityFrozen).toBe(true);
      await expectRevert(
        compliance().freezeIdentity(person, 1),
        platform.registry,
        "IdentityRegistryIdentityAlreadyFrozen",
        [person],
      );

      // A per-address freeze stays on its own when the identity is unfrozen.
      await compliance().freeze(bob2.address, 5);
      await compliance().unfreezeIdentity(person, 22);
      expect(await platform.registry.isVerified(bob.address)).toBe(true);
      expect(await platform.registry.isVerified(stranger.address)).toBe(true);
      expect(await platform.registry.isVerified(bob2.address)).toBe(false);
      await expectRevert(
        compliance().unfreezeIdentity(person, 1),
        platform.registry,
        "IdentityRegistryIdentityNotFrozen",
        [person],
      );
      await expectRevert(kyc().freezeIdentity(person, 1), platform.registry, "AccessManagedUnauthorized");
    });

    it("stops a frozen person's tokens at every wallet", async () => {
      const { tokenId, at } = await mintTo(bob2.address);
      await mineAt(platform.ethers, at + LOCK);
      await compliance().freezeIdentity(commitmentOf(bob.address), 1);
      expect(await collection.canSend(bob2.address)).toBe(false);
      expect(await collection.canTransfer(bob2.address, carol.address, tokenId)).toBe(false);
      await expectRevert(
        collection.connect(bob2).transferFrom(bob2.address, carol.address, tokenId),
        collection,
        "ERC7943CannotSend",
        [bob2.address],
      );
    });
  });

  describe("weakness: bounded counters and costs", () => {
    it("refuses at creation an edition size the token-id counter cannot hold", async () => {
      const max = 2 ** 24 - 1;
      await expectRevert(
        platform.factory.connect(platform.accounts.publisher).createCollection({
          name: "x",
          symbol: "x",
          issuer: alice.address,
          maxSupply: max,
          lockDays: 180,
          regiftDays: 730,
          contentHash: id("x"),
          baseURI: "",
        }),
        collection,
        "CollectionSupplyTooLarge",
        [BigInt(max), BigInt(max - 1)],
      );
      const largest = await createCollection(platform, { maxSupply: max - 1 });
      expect(await largest.maxSupply()).toBe(BigInt(max - 1));
      expect(await largest.MAX_SUPPLY()).toBe(BigInt(max - 1));
    });

    it("caps a one-holder mint at 100 tokens, so ownerOf and transfers stay bounded for the worst token", async () => {
      await expectRevert(asMinter().mint(alice.address, 6000, 1, 1), collection, "CollectionMintTooLarge", [
        6000n,
        100n,
      ]);
      await expectRevert(asMinter().mint(alice.address, 101, 1, 1), collection, "CollectionMintTooLarge", [101n, 100n]);
      // Worst case: the last token of a full batch, whose entry is 99 tokens back (34 slots).
      const { at } = await mintTo(alice.address, 100);
      await mintTo(alice.address, 1);
      await mineAt(platform.ethers, at + LOCK);
      const ownerOfGas = await collection.ownerOf.estimateGas(100);
      const receipt = await (await collection.connect(alice).transferFrom(alice.address, bob.address, 100)).wait();
      // Bounds stated in docs/contracts.md (a 6,000-token batch used to cost ~6.5 M gas to move its last token).
      expect(Number(ownerOfGas)).toBeLessThan(115_000);
      expect(Number(receipt!.gasUsed)).toBeLessThan(155_000);
      expect(await collection.ownerOf(100)).toBe(bob.address);
      expect(await collection.ownerOf(99)).toBe(alice.address);
      expect(await collection.ownerOf(101)).toBe(alice.address);
    });
  });

  describe("ERC-7943 and ERC-5192 in form", () => {
    it("advertises the ERC-7943 non-fungible interface id and answers canSend / canReceive", async () => {
      expect(await collection.supportsInterface("0xbf1ef5fe")).toBe(true);
      expect(await collection.canSend(alice.address)).toBe(true);
      expect(await collection.canReceive(alice.address)).toBe(true);
      expect(await collection.canReceive(stranger.address)).toBe(false);
      await compliance().freeze(alice.address, 1);
      expect(await collection.canSend(alice.address)).toBe(false);
      expect(await collection.canTransfer(alice.address, bob.address, 99)).toBe(false);
    });

    it("emits Locked with every minted token and every gift", async () => {
      const { tokenId, at, receipt } = await mintTo(alice.address, 2);
      const names = receipt.logs.map((log) => collection.interface.parseLog(log)!.name);
      expect(names).toEqual(["Transfer", "Locked", "Transfer", "Locked", "BatchMinted"]);
      const each = await (await asMinter().mintEach([bob.address], 3, 2)).wait();
      expect(each!.logs.map((log) => collection.interface.parseLog(log)!.name)).toEqual([
        "Transfer",
        "Locked",
        "BatchMinted",
      ]);
      await setNextTimestamp(platform.ethers, at + LOCK);
      const gift = await (await collection.connect(alice).transferFrom(alice.address, bob.address, tokenId)).wait();
      const parsed = gift!.logs.map((log) => collection.interface.parseLog(log)!);
      expect(parsed.map((e) => e.name)).toEqual(["Transfer", "Locked"]);
      expect(parsed[1]!.args.toArray()).toEqual([tokenId]);
    });

    it("freezes with setFrozenTokens for the holder, and for an account that does not hold the token yet", async () => {
      const { tokenId, at } = await mintTo(alice.address, 3);
      const tx = await (await asCompliance().setFrozenTokens(alice.address, 2, true)).wait();
      const events = tx!.logs.map((log) => collection.interface.parseLog(log)!);
      expect(events.map((e) => e.name)).toEqual(["Frozen", "TokenFrozen"]);
      expect(events[0]!.args.toArray()).toEqual([alice.address, 2n, true]);
      expect(await collection.getFrozenTokens(alice.address, 2)).toBe(true);
      expect(await collection.isTokenFrozen(1)).toBe(false);
      expect(await collection.isTokenFrozen(3)).toBe(false);
      // Overwrites: setting the same status again does not revert.
      await asCompliance().setFrozenTokens(alice.address, 2, true);
      // For a non-holder: recorded, and applied when the token arrives.
      await asCompliance().setFrozenTokens(bob.address, tokenId, true);
      expect(await collection.getFrozenTokens(bob.address, tokenId)).toBe(true);
      expect(await collection.getFrozenTokens(alice.address, tokenId)).toBe(false);
      await mineAt(platform.ethers, at + LOCK);
      expect(await collection.canTransfer(alice.address, bob.address, tokenId)).toBe(false);
      expect(await collection.canTransfer(alice.address, carol.address, tokenId)).toBe(true);
      await collection.connect(alice).transferFrom(alice.address, bob.address, tokenId);
      expect(await collection.isTokenFrozen(tokenId)).toBe(true);
      expect(await collection.getFrozenTokens(bob.address, tokenId)).toBe(true);
      await expectRevert(
        collection.connect(alice).transferFrom(alice.address, carol.address, 2),
        collection,
        "ERC7943InsufficientUnfrozenBalance",
        [alice.address, 2n],
      );
      await asCompliance().setFrozenTokens(alice.address, 2, false);
      expect(await collection.getFrozenTokens(alice.address, 2)).toBe(false);
      await expectRevert(
        asCompliance().setFrozenTokens(alice.address, 99, true),
        collection,
        "ERC721NonexistentToken",
        [99n],
      );
      await expectRevert(
        collection.connect(alice).setFrozenTokens(alice.address, 1, true),
        collection,
        "AccessManagedUnauthorized",
      );
    });

    it("forcedTransfer checks the holder, unfreezes a frozen token first and emits the standard events", async () => {
      const { tokenId } = await mintTo(alice.address);
      await asCompliance().freezeToken(tokenId, 1);
      await expectRevert(
        asCompliance().forcedTransfer(bob.address, carol.address, tokenId),
        collection,
        "ERC721IncorrectOwner",
        [bob.address, tokenId, alice.address],
      );
      const forced = asCompliance().forcedTransfer;
      expect(await forced.staticCall(alice.address, carol.address, tokenId)).toBe(true);
      const receipt = await (await forced(alice.address, carol.address, tokenId)).wait();
      const events = receipt!.logs.map((log) => collection.interface.parseLog(log)!);
      expect(events.map((e) => e.name)).toEqual([
        "Frozen",
        "TokenUnfrozen",
        "Transfer",
        "Locked",
        "ForcedTransfer",
        "ForcedTransferReason",
      ]);
      expect(events[4]!.args.toArray()).toEqual([alice.address, carol.address, tokenId]);
      expect(events[5]!.args.toArray()).toEqual([tokenId, 0n, false]);
      expect(await collection.getFrozenTokens(carol.address, tokenId)).toBe(false);
    });
  });

  describe("takedown", () => {
    it("burns one token with a reason, unfreezing it first, and leaves its batch neighbours alone", async () => {
      await mintTo(alice.address, 3);
      await collection.connect(platform.accounts.compliance).freezeToken(2, 1);
      const receipt = await (await asCompliance().takedown(2, 404)).wait();
      const events = receipt!.logs.map((log) => collection.interface.parseLog(log)!);
      expect(events.map((e) => e.name)).toEqual(["Frozen", "TokenUnfrozen", "Transfer", "TokenTakenDown"]);
      expect(events[2]!.args.toArray()).toEqual([alice.address, ZeroAddress, 2n]);
      expect(events[3]!.args.toArray()).toEqual([2n, 404n]);
      await expectRevert(collection.ownerOf(2), collection, "ERC721NonexistentToken", [2n]);
      await expectRevert(collection.tokenURI(2), collection, "ERC721NonexistentToken", [2n]);
      expect(await collection.ownerOf(1)).toBe(alice.address);
      expect(await collection.ownerOf(3)).toBe(alice.address);
      expect(await collection.balanceOf(alice.address)).toBe(2n);
      expect(await collection.totalSupply()).toBe(2n);
      await expectRevert(asCompliance().takedown(2, 404), collection, "ERC721NonexistentToken", [2n]);
      await expectRevert(collection.connect(alice).takedown(1, 1), collection, "AccessManagedUnauthorized");
    });

    it("takes a whole collection down: no token, no balance, no mint, no move", async () => {
      const { at } = await mintTo(alice.address, 3);
      const receipt = await (await asCompliance().takedownCollection(451)).wait();
      const event = collection.interface.parseLog(receipt!.logs[0]!)!;
      expect([event.name, ...event.args.toArray()]).toEqual(["CollectionTakenDown", 451n, 3n]);
      expect(await collection.takenDown()).toBe(true);
      expect(await collection.totalSupply()).toBe(0n);
      expect(await collection.balanceOf(alice.address)).toBe(0n);
      await expectRevert(collection.ownerOf(1), collection, "ERC721NonexistentToken", [1n]);
      await expectRevert(asMinter().mint(alice.address, 1, 4, 1), collection, "CollectionTakenDownError");
      await mineAt(platform.ethers, at + LOCK);
      expect(await collection.canTransfer(alice.address, bob.address, 1)).toBe(false);
      await expectRevert(
        collection.connect(alice).transferFrom(alice.address, bob.address, 1),
        collection,
        "ERC721NonexistentToken",
      );
      await expectRevert(asCompliance().takedownCollection(1), collection, "CollectionTakenDownError");
      await expectRevert(collection.connect(alice).takedownCollection(1), collection, "AccessManagedUnauthorized");
    });
  });

  describe("reason codes", () => {
    it("records a reason on bind (0 by default, or given) and on revoke", async () => {
      const person = commitmentOf("dave");
      const wallet = platform.accounts.others[7]!.address;
      const bound = await (await kyc().bindWithReason(wallet, person, 1, expiresAt, 31)).wait();
      expect(platform.registry.interface.parseLog(bound!.logs[0]!)!.args.reasonCode).toBe(31n);
      expect(await platform.registry.REASON_KYC_VERIFIED()).toBe(0n);
      const revoked = await (await kyc().revoke(wallet, 32)).wait();
      expect(platform.registry.interface.parseLog(revoked!.logs[0]!)!.args.reasonCode).toBe(32n);
    });
  });
});

describe("power with brakes", () => {
  it("makes the admin schedule role grants and function remaps, and wait the configured delay", async () => {
    const delay = 2n * DAY;
    const platform = await deployPlatform({ adminExecutionDelay: delay });
    const { manager, factory, accounts, ethers } = platform;
    const newcomer = accounts.others[0]!;
    expect(await manager.hasRole(Roles.ADMIN, accounts.deployer.address)).toEqual([true, delay]);

    await expectRevert(manager.grantRole(Roles.COMPLIANCE, newcomer.address, 0), manager, "AccessManagerNotScheduled");
    const remap = factory.interface.encodeFunctionData("setCollectionFunctionRole", [
      [selector("forceTransfer(uint256,address,uint32)")],
      Roles.PLATFORM_ADMIN,
    ]);
    await expectRevert(
      accounts.deployer.sendTransaction({ to: await factory.getAddress(), data: remap }),
      manager,
      "AccessManagerNotScheduled",
    );

    const grant = manager.interface.encodeFunctionData("grantRole", [Roles.COMPLIANCE, newcomer.address, 0]);
    const managerAddress = await manager.getAddress();
    await manager.schedule(managerAddress, grant, 0);
    await expectRevert(manager.execute(managerAddress, grant), manager, "AccessManagerNotReady");
    await mineAt(ethers, (await now(ethers)) + delay);
    await manager.execute(managerAddress, grant);
    expect((await manager.hasRole(Roles.COMPLIANCE, newcomer.address))[0]).toBe(true);

    await manager.schedule(await factory.getAddress(), remap, 0);
    await mineAt(ethers, (await now(ethers)) + delay);
    await manager.execute(await factory.getAddress(), remap);
    expect(await factory.collectionFunctionRole(selector("forceTransfer(uint256,address,uint32)"))).toEqual([
      true,
      Roles.PLATFORM_ADMIN,
    ]);
  });
});
