// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title Real-name allowlist of the platform
 * @notice Binds holder addresses to an identity commitment (an HMAC of the
 * holder's normalised ID number, computed off chain), a verification level and
 * an expiry. No personal data is ever stored on chain. Collections ask
 * {isVerified} on every mint and transfer.
 */
interface IIdentityRegistry {
    /// @notice Everything the registry knows about one address.
    /// @dev `holderId` is a compact number given to an address at its first binding and
    /// never reused; collections store it instead of the 20-byte address, three token
    /// owners to a storage slot. It carries no personal data.
    struct Binding {
        bytes32 commitment;
        uint64 expiresAt;
        uint8 level;
        bool frozen;
        uint32 holderId;
    }

    // ===== EVENTS =====

    /// @notice `account` (holder number `holderId`) was bound to `commitment` at `level` until `expiresAt`.
    event AddressBound(
        address indexed account,
        bytes32 indexed commitment,
        uint32 holderId,
        uint8 level,
        uint64 expiresAt
    );

    /// @notice The binding of `account` was renewed to `level` until `expiresAt`.
    event AddressReverified(address indexed account, uint8 level, uint64 expiresAt);

    /// @notice The binding of `account` to `commitment` was removed.
    event AddressRevoked(address indexed account, bytes32 indexed commitment);

    /// @notice `account` was frozen (judicial order or risk control) for `reasonCode`.
    event AddressFrozen(address indexed account, uint32 reasonCode);

    /// @notice `account` was unfrozen for `reasonCode`.
    event AddressUnfrozen(address indexed account, uint32 reasonCode);

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
     * @notice `account` is already bound to another identity.
     * @param account The address.
     * @param commitment The identity it is bound to.
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

    // ===== KYC OPERATOR =====

    /**
     * @notice Binds `account` to the identity `commitment`.
     * @dev Binding an address again to the same identity renews it, so a retried
     * write is harmless. A frozen address stays frozen.
     *
     * Requirements:
     * - caller holds the KYC operator role;
     * - `account` is not bound to another identity (revoke it first);
     * - the identity holds fewer than {maxAddressesPerIdentity} addresses;
     * - `level` is at least 1 and `expiresAt` is in the future.
     *
     * Emits an {AddressBound} event, or {AddressReverified} for a renewal.
     */
    function bind(address account, bytes32 commitment, uint8 level, uint64 expiresAt) external;

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
     * @notice Removes the binding of `account`; its identity may then bind another address.
     *
     * Requirements: caller holds the KYC operator role; `account` is bound.
     *
     * Emits an {AddressRevoked} event.
     */
    function revoke(address account) external;

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
     * @notice Lifts the freeze of `account`.
     *
     * Requirements: caller holds the compliance role; `account` is frozen.
     *
     * Emits an {AddressUnfrozen} event.
     */
    function unfreeze(address account, uint32 reasonCode) external;

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

    /// @notice For each of `accounts`, its holder number when verified now, else 0.
    function verifiedHolderIds(address[] calldata accounts) external view returns (uint32[] memory holderIds);

    /// @notice The address that holder number `holderId` belongs to (zero when unused).
    function accountOf(uint32 holderId) external view returns (address);

    /// @notice The binding of `account` (all zero when never bound).
    function bindingOf(address account) external view returns (Binding memory);

    /// @notice How many addresses are bound to `commitment`.
    function addressCountOf(bytes32 commitment) external view returns (uint256);

    /// @notice The per-identity address limit fixed at deployment.
    function maxAddressesPerIdentity() external view returns (uint256);

    /// @notice True when holders may approve `operator`.
    function isOperatorAllowed(address operator) external view returns (bool);
}
