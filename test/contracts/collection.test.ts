import { ZeroAddress, id } from "ethers";
import { beforeEach, describe, expect, it } from "vitest";

import {
  DAY,
  LOCK,
  REGIFT,
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

describe("Collection", () => {
  let platform: Platform;
  let collection: Collection;
  let alice: Platform["accounts"]["deployer"];
  let bob: Platform["accounts"]["deployer"];
  let carol: Platform["accounts"]["deployer"];
  let stranger: Platform["accounts"]["deployer"];

  beforeEach(async () => {
    platform = await deployPlatform();
    [alice, bob, carol, stranger] = platform.accounts.others as [
      typeof alice,
      typeof alice,
      typeof alice,
      typeof alice,
    ];
    await verify(platform, alice, bob, carol);
    collection = await createCollection(platform, { maxSupply: 20 });
  });

  const asMinter = () => collection.connect(platform.accounts.minter);
  const asCompliance = () => collection.connect(platform.accounts.compliance);
  const asAdmin = () => collection.connect(platform.accounts.platformAdmin);

  /** Mints one token to `holder` and returns its id and mint time. */
  async function mintTo(holder: string, quantity = 1) {
    const first = await collection.nextTokenId();
    const receipt = await (await asMinter().mint(holder, quantity, first, 1)).wait();
    const block = await platform.ethers.provider.getBlock(receipt!.blockNumber);
    return { tokenId: first, mintedAt: BigInt(block!.timestamp) };
  }

  describe("minting", () => {
    it("mints editions to a verified holder with the batch id and Transfer events", async () => {
      const receipt = await (await asMinter().mint(alice.address, 3, 1, 42)).wait();
      const parsed = receipt!.logs.map((log) => collection.interface.parseLog(log)!);
      expect(parsed.filter((e) => e.name === "Transfer").map((e) => e.args.toArray())).toEqual([
        [ZeroAddress, alice.address, 1n],
        [ZeroAddress, alice.address, 2n],
        [ZeroAddress, alice.address, 3n],
      ]);
      expect(parsed.find((e) => e.name === "BatchMinted")!.args.toArray()).toEqual([42n, 1n]);
      expect(await collection.balanceOf(alice.address)).toBe(3n);
      for (const tokenId of [1n, 2n, 3n]) expect(await collection.ownerOf(tokenId)).toBe(alice.address);
      expect(await collection.totalSupply()).toBe(3n);
      expect(await collection.nextTokenId()).toBe(4n);
    });

    it("mints one edition to each recipient, in order", async () => {
      await asMinter().mintEach([alice.address, bob.address, carol.address, alice.address], 1, 7);
      expect(await collection.ownerOf(1)).toBe(alice.address);
      expect(await collection.ownerOf(2)).toBe(bob.address);
      expect(await collection.ownerOf(3)).toBe(carol.address);
      expect(await collection.ownerOf(4)).toBe(alice.address);
      expect(await collection.balanceOf(alice.address)).toBe(2n);
    });

    it("keeps owners right when one-holder batches and per-holder batches alternate", async () => {
      await asMinter().mint(alice.address, 4, 1, 1);
      await asMinter().mintEach([bob.address, carol.address], 5, 2);
      await asMinter().mint(carol.address, 5, 7, 3);
      const owners = await Promise.all(Array.from({ length: 11 }, (_, i) => collection.ownerOf(i + 1)));
      expect(owners).toEqual([...Array(4).fill(alice.address), bob.address, ...Array(6).fill(carol.address)]);
    });

    it("refuses an unverified recipient, and a whole batch with one", async () => {
      await expectRevert(asMinter().mint(stranger.address, 1, 1, 1), collection, "CollectionUnverifiedAccount", [
        stranger.address,
      ]);
      await expectRevert(
        asMinter().mintEach([alice.address, stranger.address], 1, 1),
        collection,
        "CollectionUnverifiedAccount",
        [stranger.address],
      );
      expect(await collection.nextTokenId()).toBe(1n);
    });

    it("refuses a recipient whose verification expired or who is frozen", async () => {
      await platform.registry.connect(platform.accounts.compliance).freeze(bob.address, 1);
      await expectRevert(asMinter().mint(bob.address, 1, 1, 1), collection, "CollectionUnverifiedAccount", [
        bob.address,
      ]);
      const expiry = (await now(platform.ethers)) + 2n * DAY;
      await platform.registry.connect(platform.accounts.kyc).reverify(carol.address, 1, expiry);
      await mineAt(platform.ethers, expiry);
      await expectRevert(asMinter().mint(carol.address, 1, 1, 1), collection, "CollectionUnverifiedAccount", [
        carol.address,
      ]);
    });

    it("lets only the minter mint", async () => {
      await expectRevert(
        collection.connect(alice).mint(alice.address, 1, 1, 1),
        collection,
        "CollectionUnauthorizedMinter",
        [alice.address],
      );
      await expectRevert(
        collection.connect(alice).mintEach([alice.address], 1, 1),
        collection,
        "CollectionUnauthorizedMinter",
        [alice.address],
      );
    });

    it("can never apply the same batch twice: a resent mint finds the next token id moved on", async () => {
      await asMinter().mint(alice.address, 2, 1, 9);
      await expectRevert(asMinter().mint(alice.address, 2, 1, 9), collection, "CollectionUnexpectedFirstToken", [
        1n,
        3n,
      ]);
      await expectRevert(asMinter().mintEach([bob.address], 1, 9), collection, "CollectionUnexpectedFirstToken", [
        1n,
        3n,
      ]);
    });

    it("never passes the edition size, and refuses an empty mint", async () => {
      await asMinter().mint(alice.address, 19, 1, 1);
      await expectRevert(asMinter().mint(alice.address, 2, 20, 2), collection, "CollectionMaxSupplyExceeded", [
        20n,
        21n,
      ]);
      await expectRevert(
        asMinter().mintEach([alice.address, bob.address], 20, 2),
        collection,
        "CollectionMaxSupplyExceeded",
        [20n, 21n],
      );
      await expectRevert(asMinter().mint(alice.address, 0, 20, 2), collection, "CollectionEmptyMint");
      await expectRevert(asMinter().mintEach([], 20, 2), collection, "CollectionEmptyMint");
      await asMinter().mint(alice.address, 1, 20, 3);
      expect(await collection.totalSupply()).toBe(20n);
    });

    it("hands minting to a new minter chosen by the platform admin", async () => {
      await expectRevert(collection.connect(alice).setMinter(alice.address), collection, "AccessManagedUnauthorized", [
        alice.address,
      ]);
      await expectRevert(asAdmin().setMinter(ZeroAddress), collection, "CollectionInvalidTerms");
      await asAdmin().setMinter(bob.address);
      expect(await collection.minter()).toBe(bob.address);
      await expectRevert(asMinter().mint(alice.address, 1, 1, 1), collection, "CollectionUnauthorizedMinter");
      await collection.connect(bob).mint(alice.address, 1, 1, 1);
    });
  });

  describe("the transfer lock", () => {
    it("refuses a gift one second before 180 days and allows it at 180 days", async () => {
      const { tokenId, mintedAt } = await mintTo(alice.address);
      expect(await collection.unlocksAt(tokenId)).toBe(mintedAt + LOCK);
      await setNextTimestamp(platform.ethers, mintedAt + LOCK - 1n);
      await expectRevert(
        collection.connect(alice).transferFrom(alice.address, bob.address, tokenId),
        collection,
        "CollectionTokenLocked",
        [tokenId, mintedAt + LOCK],
      );
      await setNextTimestamp(platform.ethers, mintedAt + LOCK);
      await collection.connect(alice).transferFrom(alice.address, bob.address, tokenId);
      expect(await collection.ownerOf(tokenId)).toBe(bob.address);
      expect(await collection.balanceOf(alice.address)).toBe(0n);
      expect(await collection.balanceOf(bob.address)).toBe(1n);
    });

    it("locks a gifted token for the re-gift period, restarting at the gift", async () => {
      const { tokenId, mintedAt } = await mintTo(alice.address);
      const giftedAt = mintedAt + LOCK;
      await setNextTimestamp(platform.ethers, giftedAt);
      await collection.connect(alice).transferFrom(alice.address, bob.address, tokenId);
      expect(await collection.acquisitionOf(tokenId)).toEqual([1n, giftedAt]);
      expect(await collection.unlocksAt(tokenId)).toBe(giftedAt + REGIFT);

      await setNextTimestamp(platform.ethers, giftedAt + REGIFT - 1n);
      await expectRevert(
        collection.connect(bob).transferFrom(bob.address, carol.address, tokenId),
        collection,
        "CollectionTokenLocked",
        [tokenId, giftedAt + REGIFT],
      );
      await setNextTimestamp(platform.ethers, giftedAt + REGIFT);
      await collection.connect(bob).transferFrom(bob.address, carol.address, tokenId);
      expect(await collection.ownerOf(tokenId)).toBe(carol.address);
    });

    it("locks every path: both safeTransferFrom variants refuse a locked token", async () => {
      const { tokenId, mintedAt } = await mintTo(alice.address);
      const safe3 = collection.connect(alice).getFunction("safeTransferFrom(address,address,uint256)");
      const safe4 = collection.connect(alice).getFunction("safeTransferFrom(address,address,uint256,bytes)");
      await expectRevert(safe3(alice.address, bob.address, tokenId), collection, "CollectionTokenLocked", [
        tokenId,
        mintedAt + LOCK,
      ]);
      await expectRevert(safe4(alice.address, bob.address, tokenId, "0x"), collection, "CollectionTokenLocked");
      await setNextTimestamp(platform.ethers, mintedAt + LOCK);
      await safe4(alice.address, bob.address, tokenId, "0x1234");
      expect(await collection.ownerOf(tokenId)).toBe(bob.address);
    });

    it("reports the lock through locked() (ERC-5192), canTransfer() and canTransact()", async () => {
      const { tokenId, mintedAt } = await mintTo(alice.address);
      expect(await collection.locked(tokenId)).toBe(true);
      expect(await collection.canTransfer(alice.address, bob.address, tokenId)).toBe(false);
      await mineAt(platform.ethers, mintedAt + LOCK);
      expect(await collection.locked(tokenId)).toBe(false);
      expect(await collection.canTransfer(alice.address, bob.address, tokenId)).toBe(true);
      expect(await collection.canTransfer(alice.address, stranger.address, tokenId)).toBe(false);
      // ERC-7943: ownership is the base standard's check, not a compliance rule of canTransfer.
      expect(await collection.canTransfer(bob.address, carol.address, tokenId)).toBe(true);
      expect(await collection.canTransfer(alice.address, bob.address, 99)).toBe(false);
      expect(await collection.canTransact(alice.address)).toBe(true);
      expect(await collection.canTransact(stranger.address)).toBe(false);
    });

    it("keeps the other tokens of a batch with their holder when one of them is gifted", async () => {
      const { mintedAt } = await mintTo(alice.address, 5);
      await setNextTimestamp(platform.ethers, mintedAt + LOCK);
      await collection.connect(alice).transferFrom(alice.address, bob.address, 3);
      expect(await collection.ownerOf(2)).toBe(alice.address);
      expect(await collection.ownerOf(3)).toBe(bob.address);
      expect(await collection.ownerOf(4)).toBe(alice.address);
      expect(await collection.ownerOf(5)).toBe(alice.address);
      expect(await collection.unlocksAt(4)).toBe(mintedAt + LOCK);
    });
  });

  describe("real-name on both sides", () => {
    let tokenId: bigint;

    beforeEach(async () => {
      const minted = await mintTo(alice.address);
      tokenId = minted.tokenId;
      await mineAt(platform.ethers, minted.mintedAt + LOCK);
    });

    it("refuses an unverified recipient", async () => {
      await expectRevert(
        collection.connect(alice).transferFrom(alice.address, stranger.address, tokenId),
        collection,
        "ERC7943CannotReceive",
        [stranger.address],
      );
    });

    it("refuses a frozen sender and a frozen recipient", async () => {
      const registry = platform.registry.connect(platform.accounts.compliance);
      await registry.freeze(bob.address, 3);
      await expectRevert(
        collection.connect(alice).transferFrom(alice.address, bob.address, tokenId),
        collection,
        "ERC7943CannotReceive",
        [bob.address],
      );
      await registry.freeze(alice.address, 3);
      await expectRevert(
        collection.connect(alice).transferFrom(alice.address, carol.address, tokenId),
        collection,
        "ERC7943CannotSend",
        [alice.address],
      );
    });

    it("refuses a sender whose verification expired", async () => {
      const expiry = (await now(platform.ethers)) + DAY;
      await platform.registry.connect(platform.accounts.kyc).reverify(alice.address, 1, expiry);
      await setNextTimestamp(platform.ethers, expiry);
      await expectRevert(
        collection.connect(alice).transferFrom(alice.address, bob.address, tokenId),
        collection,
        "ERC7943CannotSend",
        [alice.address],
      );
    });

    it("refuses a transfer from someone who does not hold the token", async () => {
      await expectRevert(
        collection.connect(bob).transferFrom(bob.address, carol.address, tokenId),
        collection,
        "ERC721IncorrectOwner",
        [bob.address, tokenId, alice.address],
      );
      await expectRevert(
        collection.connect(bob).transferFrom(alice.address, carol.address, tokenId),
        collection,
        "ERC721InsufficientApproval",
        [bob.address, tokenId],
      );
    });
  });

  describe("no marketplace", () => {
    let operator: Platform["accounts"]["deployer"];
    let tokenId: bigint;

    beforeEach(async () => {
      operator = platform.accounts.others[5]!;
      const minted = await mintTo(alice.address);
      tokenId = minted.tokenId;
      await mineAt(platform.ethers, minted.mintedAt + LOCK);
    });

    it("refuses approvals to operators the platform does not allow", async () => {
      await expectRevert(
        collection.connect(alice).approve(operator.address, tokenId),
        collection,
        "CollectionOperatorNotAllowed",
        [operator.address],
      );
      await expectRevert(
        collection.connect(alice).setApprovalForAll(operator.address, true),
        collection,
        "CollectionOperatorNotAllowed",
        [operator.address],
      );
      await expectRevert(
        collection.connect(alice).setApprovalForAll(ZeroAddress, true),
        collection,
        "ERC721InvalidOperator",
      );
    });

    it("lets an allowed operator move a token only under the same rules, and stops it when disallowed", async () => {
      const registry = platform.registry.connect(platform.accounts.platformAdmin);
      await registry.setOperatorAllowed(operator.address, true);
      await collection.connect(alice).approve(operator.address, tokenId);
      expect(await collection.getApproved(tokenId)).toBe(operator.address);
      await expectRevert(
        collection.connect(operator).transferFrom(alice.address, stranger.address, tokenId),
        collection,
        "ERC7943CannotReceive",
      );
      await registry.setOperatorAllowed(operator.address, false);
      await expectRevert(
        collection.connect(operator).transferFrom(alice.address, bob.address, tokenId),
        collection,
        "CollectionOperatorNotAllowed",
        [operator.address],
      );
      await registry.setOperatorAllowed(operator.address, true);
      await collection.connect(operator).transferFrom(alice.address, bob.address, tokenId);
      expect(await collection.ownerOf(tokenId)).toBe(bob.address);
      expect(await collection.getApproved(tokenId)).toBe(ZeroAddress);
    });

    it("lets an operator approved for all move the holder's tokens", async () => {
      await platform.registry.connect(platform.accounts.platformAdmin).setOperatorAllowed(operator.address, true);
      await collection.connect(alice).setApprovalForAll(operator.address, true);
      expect(await collection.isApprovedForAll(alice.address, operator.address)).toBe(true);
      await collection.connect(operator).transferFrom(alice.address, bob.address, tokenId);
      expect(await collection.ownerOf(tokenId)).toBe(bob.address);
    });

    it("always lets a holder clear approvals, and refuses approvals by non-holders", async () => {
      await collection.connect(alice).approve(ZeroAddress, tokenId);
      await collection.connect(alice).setApprovalForAll(operator.address, false);
      await expectRevert(collection.connect(bob).approve(ZeroAddress, tokenId), collection, "ERC721InvalidApprover", [
        bob.address,
      ]);
    });
  });

  describe("compliance", () => {
    let tokenId: bigint;
    let mintedAt: bigint;

    beforeEach(async () => {
      ({ tokenId, mintedAt } = await mintTo(alice.address));
    });

    it("freezes a token so it cannot move until unfrozen", async () => {
      await mineAt(platform.ethers, mintedAt + LOCK);
      await asCompliance().freezeToken(tokenId, 11);
      expect(await collection.isTokenFrozen(tokenId)).toBe(true);
      expect(await collection.locked(tokenId)).toBe(true);
      await expectRevert(
        collection.connect(alice).transferFrom(alice.address, bob.address, tokenId),
        collection,
        "ERC7943InsufficientUnfrozenBalance",
        [alice.address, tokenId],
      );
      await expectRevert(asCompliance().freezeToken(tokenId, 11), collection, "CollectionTokenFrozen", [tokenId]);
      await asCompliance().unfreezeToken(tokenId, 12);
      await expectRevert(asCompliance().unfreezeToken(tokenId, 12), collection, "CollectionTokenNotFrozen", [tokenId]);
      await collection.connect(alice).transferFrom(alice.address, bob.address, tokenId);
    });

    it("pauses every mint and transfer", async () => {
      await mineAt(platform.ethers, mintedAt + LOCK);
      await asCompliance().pause(5);
      expect(await collection.paused()).toBe(true);
      await expectRevert(asMinter().mint(alice.address, 1, 2, 1), collection, "CollectionPausedError");
      await expectRevert(
        collection.connect(alice).transferFrom(alice.address, bob.address, tokenId),
        collection,
        "CollectionPausedError",
      );
      await expectRevert(asCompliance().pause(5), collection, "CollectionPausedError");
      await asCompliance().unpause(6);
      await expectRevert(asCompliance().unpause(6), collection, "CollectionNotPaused");
      await collection.connect(alice).transferFrom(alice.address, bob.address, tokenId);
    });

    it("force-transfers a locked, frozen token in a paused collection to another person: unfrozen first, re-gift lock", async () => {
      await asCompliance().freezeToken(tokenId, 1);
      await asCompliance().pause(1);
      const receipt = await (await asCompliance().forceTransfer(tokenId, bob.address, 77)).wait();
      const events = receipt!.logs.map((log) => collection.interface.parseLog(log)!);
      expect(events.map((e) => e.name)).toEqual([
        "Frozen",
        "TokenUnfrozen",
        "Transfer",
        "Locked",
        "ForcedTransfer",
        "ForcedTransferReason",
      ]);
      expect(events[0]!.args.toArray()).toEqual([alice.address, tokenId, false]);
      expect(events.find((e) => e.name === "ForcedTransfer")!.args.toArray()).toEqual([
        alice.address,
        bob.address,
        tokenId,
      ]);
      expect(events.find((e) => e.name === "ForcedTransferReason")!.args.toArray()).toEqual([tokenId, 77n, false]);
      const block = await platform.ethers.provider.getBlock(receipt!.blockNumber);
      expect(await collection.ownerOf(tokenId)).toBe(bob.address);
      expect(await collection.isTokenFrozen(tokenId)).toBe(false);
      expect(await collection.acquisitionOf(tokenId)).toEqual([2n, BigInt(block!.timestamp)]);
      expect(await collection.unlocksAt(tokenId)).toBe(BigInt(block!.timestamp) + REGIFT);
    });

    it("still requires a verified recipient for a forced recovery", async () => {
      await expectRevert(
        asCompliance().forceTransfer(tokenId, stranger.address, 1),
        collection,
        "ERC7943CannotReceive",
        [stranger.address],
      );
    });

    it("lets only the compliance role freeze, pause and recover", async () => {
      for (const action of [
        collection.connect(alice).freezeToken(tokenId, 1),
        collection.connect(alice).unfreezeToken(tokenId, 1),
        collection.connect(alice).pause(1),
        collection.connect(alice).unpause(1),
        collection.connect(platform.accounts.minter).forceTransfer(tokenId, bob.address, 1),
      ]) {
        await expectRevert(action, collection, "AccessManagedUnauthorized");
      }
    });

    it("refuses to freeze a token that does not exist", async () => {
      await expectRevert(asCompliance().freezeToken(99, 1), collection, "ERC721NonexistentToken", [99n]);
    });
  });

  describe("content and metadata", () => {
    it("records the collection media hash and per-edition hashes, once each", async () => {
      expect(await collection.contentHash()).toBe(id("media"));
      expect(await collection.contentHashOf(5)).toBe(id("media"));
      await asAdmin().setEditionContentHashes([5], [id("edition-5")]);
      expect(await collection.contentHashOf(5)).toBe(id("edition-5"));
      await expectRevert(
        asAdmin().setEditionContentHashes([5], [id("other")]),
        collection,
        "CollectionContentHashAlreadySet",
        [5n],
      );
      await expectRevert(
        asAdmin().setEditionContentHashes([21], [id("x")]),
        collection,
        "CollectionNonexistentEdition",
        [21n],
      );
      await expectRevert(
        asAdmin().setEditionContentHashes([0], [id("x")]),
        collection,
        "CollectionNonexistentEdition",
        [0n],
      );
      await expectRevert(
        asAdmin().setEditionContentHashes([6], ["0x" + "00".repeat(32)]),
        collection,
        "CollectionInvalidTerms",
      );
      await expectRevert(asAdmin().setEditionContentHashes([6, 7], [id("x")]), collection, "CollectionLengthMismatch");
      await expectRevert(collection.contentHashOf(21), collection, "CollectionNonexistentEdition", [21n]);
      await expectRevert(
        collection.connect(alice).setEditionContentHashes([6], [id("x")]),
        collection,
        "AccessManagedUnauthorized",
      );
    });

    it("describes itself: name, symbol, issuer, terms, token URI and interfaces", async () => {
      await mintTo(alice.address);
      expect(await collection.name()).toBe("敦煌飞天");
      expect(await collection.symbol()).toBe("DHFT");
      expect(await collection.issuer()).toBe(platform.accounts.publisher.address);
      expect(await collection.maxSupply()).toBe(20n);
      expect(await collection.lockPeriod()).toBe(LOCK);
      expect(await collection.regiftPeriod()).toBe(REGIFT);
      expect(await collection.identityRegistry()).toBe(await platform.registry.getAddress());
      expect(await collection.tokenURI(1)).toBe("https://example.test/meta/1");
      await expectRevert(collection.tokenURI(2), collection, "ERC721NonexistentToken", [2n]);
      await expectRevert(collection.ownerOf(0), collection, "ERC721NonexistentToken", [0n]);
      await expectRevert(collection.getApproved(2), collection, "ERC721NonexistentToken", [2n]);
      await expectRevert(collection.balanceOf(ZeroAddress), collection, "ERC721InvalidOwner", [ZeroAddress]);
      for (const interfaceId of ["0x01ffc9a7", "0x80ac58cd", "0x5b5e139f", "0xb45a3c0e", "0xbf1ef5fe"]) {
        expect(await collection.supportsInterface(interfaceId)).toBe(true);
      }
      expect(await collection.supportsInterface("0xffffffff")).toBe(false);
    });

    it("gives an empty token URI when the collection has no metadata base", async () => {
      const bare = await createCollection(platform, { baseURI: "" });
      await bare.connect(platform.accounts.minter).mint(alice.address, 1, 1, 1);
      expect(await bare.tokenURI(1)).toBe("");
    });
  });

  describe("safe transfers to contracts", () => {
    const Mode = { Accept: 0, WrongAnswer: 1, RevertWithError: 2, RevertEmpty: 3 } as const;

    it("calls onERC721Received on a contract recipient and refuses one that does not accept", async () => {
      const { mintedAt } = await mintTo(alice.address, 4);
      const receivers = await Promise.all(
        Object.values(Mode).map((mode) => platform.ethers.deployContract("ReceiverMock", [mode])),
      );
      const addresses = await Promise.all(receivers.map((r) => r.getAddress()));
      await platform.registry.connect(platform.accounts.kyc).bindBatch(
        addresses,
        addresses.map((a) => id(a)),
        1,
        mintedAt + 3650n * DAY,
      );
      await mineAt(platform.ethers, mintedAt + LOCK);
      const safe = collection.connect(alice).getFunction("safeTransferFrom(address,address,uint256)");
      const [accepting, wrong, reverting, silent] = addresses as [string, string, string, string];

      await safe(alice.address, accepting, 1);
      expect(await collection.ownerOf(1)).toBe(accepting);
      await expectRevert(safe(alice.address, wrong, 2), collection, "ERC721InvalidReceiver", [wrong]);
      await expectRevert(safe(alice.address, reverting, 2), receivers[Mode.RevertWithError]!, "ReceiverMockRefused");
      await expectRevert(safe(alice.address, silent, 2), collection, "ERC721InvalidReceiver", [silent]);
      expect(await collection.ownerOf(2)).toBe(alice.address);
    });
  });

  describe("initialisation", () => {
    it("cannot be initialised again, and the implementation cannot be initialised at all", async () => {
      const terms = {
        name: "x",
        symbol: "x",
        issuer: alice.address,
        maxSupply: 1,
        lockDays: 180,
        regiftDays: 730,
        contentHash: id("x"),
        baseURI: "",
      };
      await expectRevert(
        collection.initialize(terms, alice.address, alice.address),
        collection,
        "InvalidInitialization",
      );
      await expectRevert(
        platform.implementation.initialize(terms, alice.address, alice.address),
        collection,
        "InvalidInitialization",
      );
    });

    it("guards the 180-day floor and its other terms itself, even for a clone made outside the factory", async () => {
      const deployer = await platform.ethers.deployContract("CloneDeployer");
      const receipt = await (await deployer.clone(await platform.implementation.getAddress())).wait();
      const clone = await platform.ethers.getContractAt(
        "Collection",
        deployer.interface.parseLog(receipt!.logs[0]!)!.args.clone,
      );
      const base = {
        name: "x",
        symbol: "x",
        issuer: alice.address,
        maxSupply: 1,
        lockDays: 180,
        regiftDays: 730,
        contentHash: id("x"),
        baseURI: "",
      };
      await expectRevert(
        clone.initialize({ ...base, lockDays: 179 }, alice.address, alice.address),
        clone,
        "CollectionLockBelowFloor",
        [179n, 180n],
      );
      await expectRevert(clone.initialize(base, alice.address, ZeroAddress), clone, "CollectionInvalidTerms");
      await clone.initialize(base, alice.address, alice.address);
      expect(await clone.lockPeriod()).toBe(LOCK);
    });
  });
});
