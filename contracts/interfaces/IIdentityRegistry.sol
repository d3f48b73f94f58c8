// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title Real-name allowlist of the platform
 * @notice Binds holder addresses to an identity commitment (an HMAC of the
 * holder's normalised ID number, computed off chain), a verification level and
 * an expiry. No personal data is ever stored on chain. Collections ask
 * {isVerified} on every mint and transfer.
 *
 * The identity (the person) is the unit:
 * - An address, once bound to an identity, belongs to that identity for ever: it can be revoked and
 *   bound again to the same identity, never to another one. Its holder number is permanent too, so a
 *   collection's ownership record (by holder number) always names the same person.
 * - The per-identity cap {maxAddressesPerIdentity} counts the identity's addresses that are bound now
 *   (not revoked). Revoking an address frees one place under the cap; binding it again (to the same
 *   identity, the only one it may have) takes one again. Revoked addresses are never counted and never
 *   reusable by anyone else.
 * - Tokens at a revoked address stay where they are, owned by the same address and so by the same
 *   person: no token changes owner. The address is not verified while revoked, so its tokens cannot be
 *   sent, and it cannot receive, until it is bound again to its identity, or until the compliance role
 *   recovers the tokens with a forced transfer to another address of the same identity (which keeps
 *   each token's lock).
 * - Freezing an identity ({freezeIdentity}) unverifies every address bound to it now and every address
 *   bound to it later, until {unfreezeIdentity}. Per-address freezes ({freeze}) stay, and are
 *   independent: an address is verified only when neither it nor its identity is frozen.
 */
interface IIdentityRegistry {
    /// @notice Everything the registry knows about one address.
    /// @dev `holderId` is a compact number given to an address at its first binding and
    /// never reused; collections store it instead of the 20-byte address, three token
    /// owners to a storage slot. It carries no personal data. `commitment` is the identity the
    /// address belongs to for ever (it stays after a revocation); `active` is false once revoked.
    /// `frozen` is the address's own freeze, `identityFrozen` its identity's.
    struct Binding {
        bytes32 commitment;
        uint64 expiresAt;
        uint8 level;
        bool frozen;
        uint32 holderId;
        bool identityFrozen;
        bool active;
    }

    // ===== EVENTS =====

    /// @notice `account` (holder number `holderId`) was bound to `commitment` at `level` until `expiresAt`,
    /// for `reasonCode` ({REASON_KYC_VERIFIED} for an ordinary real-name verification).
    event AddressBound(
        address indexed account,
        bytes32 indexed commitment,
        uint32 holderId,
        uint8 level,
        uint64 expiresAt,
        uint32 reasonCode
    );

    /// @notice The binding of `account` was renewed to `level` until `expiresAt`.
    event AddressReverified(address indexed account, uint8 level, uint64 expiresAt);

    /// @notice The binding of `account` to `commitment` was revoked for `reasonCode`; the address still
    /// belongs to `commitment` and can only ever be bound to it again.
    event AddressRevoked(address indexed account, bytes32 indexed commitment, uint32 reasonCode);

    /// @notice `account` was frozen (judicial order or risk control) for `reasonCode`.
    event AddressFrozen(address indexed account, uint32 reasonCode);

    /// @notice `account` was unfrozen for `reasonCode`.
    event AddressUnfrozen(address indexed account, uint32 reasonCode);

    /// @notice The identity `commitment` was frozen for `reasonCode`: all its addresses, now and later.
    event IdentityFrozen(bytes32 indexed commitment, uint32 reasonCode);

    /// @notice The identity `commitment` was unfrozen for `reasonCode`.
    event IdentityUnfrozen(bytes32 indexed commitment, uint32 reasonCode);

    /// @notice `operator` may (or may no longer) be approved by holders.
    event OperatorAllowanceChanged(address indexed operator, bool allowed);

    // ===== ERRORS =====

    /**
     * @notice The zero address cannot be bound, frozen or allowed.
     */
    error IdentityRegistryZeroAddress();

    /**
     * @notice A commitment of zero is not a commitment.
     */
    error IdentityRegistryZeroCommitment();

    /**
     * @notice `account` belongs to another identity (bound to it now, or once and revoked since):
     * an address never changes identity.
     * @param account The address.
     * @param commitment The identity it belongs to.
     */
    error IdentityRegistryBoundToOtherIdentity(address account, bytes32 commitment);

    /**
     * @notice `account` has no binding.
     * @param account The address.
     */
    error IdentityRegistryNotBound(address account);

    /**
     * @notice The identity already holds the maximum number of addresses.
     * @param commitment The identity.
     * @param max The per-identity limit fixed at deployment.
     */
    error IdentityRegistryTooManyAddresses(bytes32 commitment, uint256 max);

    /**
     * @notice A binding must expire in the future.
     * @param expiresAt The expiry given.
     */
    error IdentityRegistryInvalidExpiry(uint64 expiresAt);

    /**
     * @notice Verification levels start at 1.
     * @param level The level given.
     */
    error IdentityRegistryInvalidLevel(uint8 level);

    /**
     * @notice Parallel arrays of a batch differ in length.
     * @param accounts Number of addresses.
     * @param commitments Number of commitments.
     */
    error IdentityRegistryLengthMismatch(uint256 accounts, uint256 commitments);

    /**
     * @notice The per-identity address limit must be at least one.
     */
    error IdentityRegistryInvalidAddressLimit();

    /**
     * @notice `account` is already frozen.
     * @param account The address.
     */
    error IdentityRegistryAlreadyFrozen(address account);

    /**
     * @notice `account` is not frozen.
     * @param account The address.
     */
    error IdentityRegistryNotFrozen(address account);

    /**
     * @notice The identity is already frozen.
     * @param commitment The identity.
     */
    error IdentityRegistryIdentityAlreadyFrozen(bytes32 commitment);

    /**
     * @notice The identity is not frozen.
     * @param commitment The identity.
     */
    error IdentityRegistryIdentityNotFrozen(bytes32 commitment);

    // ===== KYC OPERATOR =====

    /**
     * @notice Binds `account` to the identity `commitment`.
     * @dev Binding an address again to the same identity renews it, so a retried
     * write is harmless; binding a revoked address again to its own identity restores it
     * (same holder number). A frozen address stays frozen, and an address of a frozen
     * identity is frozen from its binding on. The event carries {REASON_KYC_VERIFIED};
     * {bindWithReason} records another reason.
     *
     * Requirements:
     * - caller holds the KYC operator role;
     * - `account` has never been bound to another identity (revoking does not free it);
     * - unless `account` is bound now, the identity has fewer than {maxAddressesPerIdentity}
     *   addresses bound now (revoked addresses do not count);
     * - `level` is at least 1 and `expiresAt` is in the future.
     *
     * Emits an {AddressBound} event, or {AddressReverified} for a renewal.
     */
    function bind(address account, bytes32 commitment, uint8 level, uint64 expiresAt) external;

    /// @notice {bind} with the reason recorded in {AddressBound} (e.g. a recovery wallet).
    function bindWithReason(
        address account,
        bytes32 commitment,
        uint8 level,
        uint64 expiresAt,
        uint32 reasonCode
    ) external;

    /**
     * @notice Binds many addresses at once (onboarding), each to its own identity.
     * @dev Same rules as {bind} for every entry; the whole batch reverts on the first refusal.
     */
    function bindBatch(
        address[] calldata accounts,
        bytes32[] calldata commitments,
        uint8 level,
        uint64 expiresAt
    ) external;

    /**
     * @notice Extends or changes the verification of a bound address.
     *
     * Requirements: caller holds the KYC operator role; `account` is bound.
     *
     * Emits an {AddressReverified} event.
     */
    function reverify(address account, uint8 level, uint64 expiresAt) external;

    /**
     * @notice Revokes the binding of `account`: it is no longer verified and no longer counts
     * towards its identity's cap, so the identity may bind another address.
     * @dev The address keeps its identity and holder number for ever and can only be bound again to
     * the same identity. Its tokens stay at the address (no owner change, no event from collections);
     * they cannot move until it is bound again or the compliance role recovers them.
     *
     * Requirements: caller holds the KYC operator role; `account` is bound now.
     *
     * Emits an {AddressRevoked} event with `reasonCode`.
     */
    function revoke(address account, uint32 reasonCode) external;

    // ===== COMPLIANCE =====

    /**
     * @notice Freezes `account`: it can neither send nor receive collectibles.
     *
     * Requirements: caller holds the compliance role; `account` is not frozen.
     *
     * Emits an {AddressFrozen} event.
     */
    function freeze(address account, uint32 reasonCode) external;

    /**
     * @notice Lifts the freeze of `account` (its own; a freeze of its identity stays).
     *
     * Requirements: caller holds the compliance role; `account` is frozen.
     *
     * Emits an {AddressUnfrozen} event.
     */
    function unfreeze(address account, uint32 reasonCode) external;

    /**
     * @notice Freezes the person `commitment`: every address bound to it now and every address
     * bound to it later is unverified until {unfreezeIdentity}.
     * @dev Costs one storage write per address bound now (at most {maxAddressesPerIdentity}).
     *
     * Requirements: caller holds the compliance role; the identity is not frozen.
     *
     * Emits an {IdentityFrozen} event.
     */
    function freezeIdentity(bytes32 commitment, uint32 reasonCode) external;

    /**
     * @notice Lifts the freeze of the person `commitment` (per-address freezes stay).
     *
     * Requirements: caller holds the compliance role; the identity is frozen.
     *
     * Emits an {IdentityUnfrozen} event.
     */
    function unfreezeIdentity(bytes32 commitment, uint32 reasonCode) external;

    // ===== PLATFORM =====

    /**
     * @notice Lets holders approve `operator` (a platform custody or escrow contract), or stops it.
     * @dev Collections refuse every other approval, so there is no marketplace.
     *
     * Requirements: caller holds the platform admin role.
     *
     * Emits an {OperatorAllowanceChanged} event.
     */
    function setOperatorAllowed(address operator, bool allowed) external;

    // ===== GETTERS =====

    /// @notice True when `account` is bound, its verification has not expired and it is not frozen.
    function isVerified(address account) external view returns (bool);

    /// @notice The holder number of `account` (0 when never bound) and whether it is verified now.
    function holderOf(address account) external view returns (uint32 holderId, bool verified);

    /**
     * @notice Both parties of a transfer in one call (the collections' hot path).
     * @return fromHolderId The holder number of `from` (0 when never bound).
     * @return fromVerified Whether `from` is verified now.
     * @return toHolderId The holder number of `to`.
     * @return toVerified Whether `to` is verified now.
     */
    function partiesOf(
        address from,
        address to
    ) external view returns (uint32 fromHolderId, bool fromVerified, uint32 toHolderId, bool toVerified);

    /// @notice For each of `accounts`, its holder number when verified now, else 0.
    function verifiedHolderIds(address[] calldata accounts) external view returns (uint32[] memory holderIds);

    /// @notice The address that holder number `holderId` belongs to (zero when unused).
    function accountOf(uint32 holderId) external view returns (address);

    /// @notice The binding of `account` (all zero when never bound).
    function bindingOf(address account) external view returns (Binding memory);

    /// @notice The identity `account` belongs to (zero when never bound); it never changes once set.
    function identityOf(address account) external view returns (bytes32);

    /// @notice How many addresses are bound to `commitment` now (revoked ones excluded): what the cap counts.
    function addressCountOf(bytes32 commitment) external view returns (uint256);

    /// @notice The addresses bound to `commitment` now (revoked ones excluded).
    function addressesOf(bytes32 commitment) external view returns (address[] memory);

    /// @notice True when the identity `commitment` is frozen.
    function isIdentityFrozen(bytes32 commitment) external view returns (bool);

    /// @notice The per-identity address limit fixed at deployment.
    function maxAddressesPerIdentity() external view returns (uint256);

    /// @notice True when holders may approve `operator`.
    function isOperatorAllowed(address operator) external view returns (bool);
}
