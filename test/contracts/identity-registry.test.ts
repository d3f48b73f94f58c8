import { beforeEach, describe, expect, it } from "vitest";

import { DAY, commitmentOf, deployPlatform, mineAt, now, type Platform } from "./fixture.js";
import { expectRevert } from "./revert.js";

describe("IdentityRegistry", () => {
  let platform: Platform;
  let expiresAt: bigint;

  beforeEach(async () => {
    platform = await deployPlatform();
    expiresAt = (await now(platform.ethers)) + 365n * DAY;
  });

  const kyc = () => platform.registry.connect(platform.accounts.kyc);
  const compliance = () => platform.registry.connect(platform.accounts.compliance);
  const person = (i: number) => platform.accounts.others[i]!.address;

  describe("bind", () => {
    it("verifies a bound address and emits AddressBound", async () => {
      const commitment = commitmentOf("alice");
      const receipt = await (await kyc().bind(person(0), commitment, 2, expiresAt)).wait();
      const event = platform.registry.interface.parseLog(receipt!.logs[0]!);
      expect(event?.name).toBe("AddressBound");
      expect(event?.args.toArray()).toEqual([person(0), commitment, 1n, 2n, expiresAt, 0n]);
      expect(await platform.registry.isVerified(person(0))).toBe(true);
      const binding = await platform.registry.bindingOf(person(0));
      expect([
        binding.commitment,
        binding.expiresAt,
        binding.level,
        binding.frozen,
        binding.holderId,
        binding.identityFrozen,
        binding.active,
      ]).toEqual([commitment, expiresAt, 2n, false, 1n, false, true]);
      expect(await platform.registry.addressCountOf(commitment)).toBe(1n);
    });

    it("does not verify an address that was never bound", async () => {
      expect(await platform.registry.isVerified(person(0))).toBe(false);
    });

    it("refuses callers without the KYC operator role", async () => {
      await expectRevert(
        platform.registry.connect(platform.accounts.compliance).bind(person(0), commitmentOf("a"), 1, expiresAt),
        platform.registry,
        "AccessManagedUnauthorized",
        [platform.accounts.compliance.address],
      );
    });

    it("refuses the zero address, a zero commitment, level 0 and a past expiry", async () => {
      const { ZeroAddress, ZeroHash } = await import("ethers");
      await expectRevert(
        kyc().bind(ZeroAddress, commitmentOf("a"), 1, expiresAt),
        platform.registry,
        "IdentityRegistryZeroAddress",
      );
      await expectRevert(
        kyc().bind(person(0), ZeroHash, 1, expiresAt),
        platform.registry,
        "IdentityRegistryZeroCommitment",
      );
      await expectRevert(
        kyc().bind(person(0), commitmentOf("a"), 0, expiresAt),
        platform.registry,
        "IdentityRegistryInvalidLevel",
        [0n],
      );
      const past = await now(platform.ethers);
      await expectRevert(
        kyc().bind(person(0), commitmentOf("a"), 1, past),
        platform.registry,
        "IdentityRegistryInvalidExpiry",
        [past],
      );
    });

    it("renews instead of failing when the same address is bound to the same identity again", async () => {
      const commitment = commitmentOf("alice");
      await kyc().bind(person(0), commitment, 1, expiresAt);
      const receipt = await (await kyc().bind(person(0), commitment, 3, expiresAt + DAY)).wait();
      expect(platform.registry.interface.parseLog(receipt!.logs[0]!)?.name).toBe("AddressReverified");
      expect(await platform.registry.addressCountOf(commitment)).toBe(1n);
      expect((await platform.registry.bindingOf(person(0))).level).toBe(3n);
    });

    it("refuses to rebind an address that belongs to another identity", async () => {
      await kyc().bind(person(0), commitmentOf("alice"), 1, expiresAt);
      await expectRevert(
        kyc().bind(person(0), commitmentOf("bob"), 1, expiresAt),
        platform.registry,
        "IdentityRegistryBoundToOtherIdentity",
        [person(0), commitmentOf("alice")],
      );
    });

    it("limits one identity to the deployment's address limit (3)", async () => {
      const commitment = commitmentOf("alice");
      expect(await platform.registry.maxAddressesPerIdentity()).toBe(3n);
      for (let i = 0; i < 3; i++) await kyc().bind(person(i), commitment, 1, expiresAt);
      await expectRevert(
        kyc().bind(person(3), commitment, 1, expiresAt),
        platform.registry,
        "IdentityRegistryTooManyAddresses",
        [commitment, 3n],
      );
    });

    it("binds a batch and refuses arrays of different lengths", async () => {
      await kyc().bindBatch([person(0), person(1)], [commitmentOf("a"), commitmentOf("b")], 1, expiresAt);
      expect(await platform.registry.isVerified(person(0))).toBe(true);
      expect(await platform.registry.isVerified(person(1))).toBe(true);
      await expectRevert(
        kyc().bindBatch([person(2)], [commitmentOf("c"), commitmentOf("d")], 1, expiresAt),
        platform.registry,
        "IdentityRegistryLengthMismatch",
        [1n, 2n],
      );
    });
  });

  describe("expiry, reverification and revocation", () => {
    it("stops verifying an address once its verification expires", async () => {
      await kyc().bind(person(0), commitmentOf("a"), 1, expiresAt);
      await mineAt(platform.ethers, expiresAt - 1n);
      expect(await platform.registry.isVerified(person(0))).toBe(true);
      await mineAt(platform.ethers, expiresAt);
      expect(await platform.registry.isVerified(person(0))).toBe(false);
    });

    it("extends a verification with reverify, and refuses an unbound address", async () => {
      await kyc().bind(person(0), commitmentOf("a"), 1, expiresAt);
      await kyc().reverify(person(0), 2, expiresAt + 365n * DAY);
      await mineAt(platform.ethers, expiresAt + DAY);
      expect(await platform.registry.isVerified(person(0))).toBe(true);
      await expectRevert(kyc().reverify(person(1), 1, expiresAt), platform.registry, "IdentityRegistryNotBound", [
        person(1),
      ]);
      await expectRevert(
        kyc().reverify(person(0), 0, expiresAt + 400n * DAY),
        platform.registry,
        "IdentityRegistryInvalidLevel",
        [0n],
      );
    });

    it("revokes a binding, frees the identity's slot and refuses an unbound address", async () => {
      const commitment = commitmentOf("a");
      await kyc().bind(person(0), commitment, 1, expiresAt);
      const receipt = await (await kyc().revoke(person(0), 9)).wait();
      expect(platform.registry.interface.parseLog(receipt!.logs[0]!)?.args.toArray()).toEqual([
        person(0),
        commitment,
        9n,
      ]);
      expect(await platform.registry.isVerified(person(0))).toBe(false);
      expect(await platform.registry.addressCountOf(commitment)).toBe(0n);
      await expectRevert(kyc().revoke(person(0), 9), platform.registry, "IdentityRegistryNotBound", [person(0)]);
    });
  });

  describe("freeze", () => {
    it("unverifies a frozen address until the compliance role unfreezes it", async () => {
      await kyc().bind(person(0), commitmentOf("a"), 1, expiresAt);
      await compliance().freeze(person(0), 7);
      expect(await platform.registry.isVerified(person(0))).toBe(false);
      await compliance().unfreeze(person(0), 8);
      expect(await platform.registry.isVerified(person(0))).toBe(true);
    });

    it("keeps a freeze through revocation and rebinding", async () => {
      await kyc().bind(person(0), commitmentOf("a"), 1, expiresAt);
      await compliance().freeze(person(0), 7);
      await kyc().revoke(person(0), 1);
      await kyc().bind(person(0), commitmentOf("a"), 1, expiresAt);
      expect(await platform.registry.isVerified(person(0))).toBe(false);
    });

    it("refuses freezes by other roles, double freezes, unfreezing an unfrozen address and the zero address", async () => {
      const { ZeroAddress } = await import("ethers");
      await expectRevert(kyc().freeze(person(0), 1), platform.registry, "AccessManagedUnauthorized");
      await compliance().freeze(person(0), 1);
      await expectRevert(compliance().freeze(person(0), 1), platform.registry, "IdentityRegistryAlreadyFrozen", [
        person(0),
      ]);
      await expectRevert(compliance().unfreeze(person(1), 1), platform.registry, "IdentityRegistryNotFrozen", [
        person(1),
      ]);
      await expectRevert(compliance().freeze(ZeroAddress, 1), platform.registry, "IdentityRegistryZeroAddress");
    });
  });

  describe("holder numbers", () => {
    it("gives each address a permanent holder number at its first binding", async () => {
      await kyc().bindBatch([person(0), person(1)], [commitmentOf("a"), commitmentOf("b")], 1, expiresAt);
      expect(await platform.registry.holderOf(person(0))).toEqual([1n, true]);
      expect(await platform.registry.holderOf(person(1))).toEqual([2n, true]);
      expect(await platform.registry.accountOf(2)).toBe(person(1));
      await kyc().revoke(person(0), 1);
      await kyc().bind(person(0), commitmentOf("a"), 1, expiresAt);
      expect(await platform.registry.holderOf(person(0))).toEqual([1n, true]);
    });

    it("reports holder numbers only for addresses verified now", async () => {
      await kyc().bindBatch([person(0), person(1)], [commitmentOf("a"), commitmentOf("b")], 1, expiresAt);
      await compliance().freeze(person(1), 1);
      expect(await platform.registry.holderOf(person(1))).toEqual([2n, false]);
      expect(await platform.registry.verifiedHolderIds([person(0), person(1), person(2)])).toEqual([1n, 0n, 0n]);
    });
  });

  describe("operators", () => {
    it("lets only the platform admin allow operators", async () => {
      const { ZeroAddress } = await import("ethers");
      await expectRevert(kyc().setOperatorAllowed(person(5), true), platform.registry, "AccessManagedUnauthorized");
      await platform.registry.connect(platform.accounts.platformAdmin).setOperatorAllowed(person(5), true);
      expect(await platform.registry.isOperatorAllowed(person(5))).toBe(true);
      await expectRevert(
        platform.registry.connect(platform.accounts.platformAdmin).setOperatorAllowed(ZeroAddress, true),
        platform.registry,
        "IdentityRegistryZeroAddress",
      );
    });
  });

  it("refuses a deployment with an address limit of zero", async () => {
    await expectRevert(
      platform.ethers.deployContract("IdentityRegistry", [await platform.manager.getAddress(), 0]),
      platform.registry,
      "IdentityRegistryInvalidAddressLimit",
    );
  });
});
