// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";

import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/**
 * @title IdentityRegistry
 * @notice The platform's real-name allowlist. See {IIdentityRegistry}: the identity (the person) is
 * the unit; an address belongs to one identity for ever.
 * @dev Roles are wired in the AccessManager by the deployment module: the KYC
 * operator role may bind, reverify and revoke; the compliance role may freeze
 * and unfreeze addresses and identities; the platform admin role allows operators.
 *
 * Storage is shaped for the collections' hot path: everything {isVerified} needs about an
 * address (expiry, its own freeze and a copy of its identity's freeze) sits in one slot with its
 * holder number, so a transfer reads one slot per party. Freezing an identity writes that copy into
 * each address bound to it now (at most {maxAddressesPerIdentity}); binding copies it into the new
 * address; a revoked address is unverified whatever its copy says, and gets a fresh copy when bound again.
 */
contract IdentityRegistry is AccessManaged, IIdentityRegistry {
    /// @notice The reason code {bind} and {bindBatch} record: an ordinary real-name verification.
    uint32 public constant REASON_KYC_VERIFIED = 0;

    /// @dev Slot 0: the identity, permanent once set. Slot 1: what the hot path reads.
    struct Record {
        bytes32 commitment;
        uint64 expiresAt;
        uint32 holderId;
        uint8 level;
        bool frozen;
        bool identityFrozen;
        bool active;
    }

    uint256 private immutable _maxAddressesPerIdentity;

    mapping(address account => Record) private _records;
    mapping(bytes32 commitment => address[]) private _activeAddresses;
    mapping(bytes32 commitment => bool) private _frozenIdentities;
    mapping(address operator => bool) private _allowedOperators;
    mapping(uint32 holderId => address) private _holderAccounts;
    uint32 private _holderCount;

    /**
     * @param authority The platform's AccessManager.
     * @param maxAddressesPerIdentity_ How many addresses one identity may have bound at once.
     */
    constructor(address authority, uint256 maxAddressesPerIdentity_) AccessManaged(authority) {
        if (maxAddressesPerIdentity_ == 0) revert IdentityRegistryInvalidAddressLimit();
        _maxAddressesPerIdentity = maxAddressesPerIdentity_;
    }

    // ===== KYC OPERATOR =====

    /// @inheritdoc IIdentityRegistry
    function bind(address account, bytes32 commitment, uint8 level, uint64 expiresAt) external restricted {
        _bind(account, commitment, level, expiresAt, REASON_KYC_VERIFIED);
    }

    /// @inheritdoc IIdentityRegistry
    function bindWithReason(
        address account,
        bytes32 commitment,
        uint8 level,
        uint64 expiresAt,
        uint32 reasonCode
    ) external restricted {
        _bind(account, commitment, level, expiresAt, reasonCode);
    }

    /// @inheritdoc IIdentityRegistry
    function bindBatch(
        address[] calldata accounts,
        bytes32[] calldata commitments,
        uint8 level,
        uint64 expiresAt
    ) external restricted {
        if (accounts.length != commitments.length) {
            revert IdentityRegistryLengthMismatch(accounts.length, commitments.length);
        }
        for (uint256 i = 0; i < accounts.length; ++i) {
            _bind(accounts[i], commitments[i], level, expiresAt, REASON_KYC_VERIFIED);
        }
    }

    /// @inheritdoc IIdentityRegistry
    function reverify(address account, uint8 level, uint64 expiresAt) external restricted {
        Record storage record = _records[account];
        if (!record.active) revert IdentityRegistryNotBound(account);
        _checkTerms(level, expiresAt);
        record.level = level;
        record.expiresAt = expiresAt;
        emit AddressReverified(account, level, expiresAt);
    }

    /// @inheritdoc IIdentityRegistry
    function revoke(address account, uint32 reasonCode) external restricted {
        Record storage record = _records[account];
        if (!record.active) revert IdentityRegistryNotBound(account);
        bytes32 commitment = record.commitment;
        // The commitment and the holder number stay: the address belongs to this identity for ever.
        // The frozen flag survives too: only the compliance role lifts a freeze.
        record.active = false;
        record.level = 0;
        record.expiresAt = 0;
        address[] storage addresses = _activeAddresses[commitment];
        uint256 last = addresses.length - 1;
        for (uint256 i = 0; i <= last; ++i) {
            if (addresses[i] == account) {
                addresses[i] = addresses[last];
                addresses.pop();
                break;
            }
        }
        emit AddressRevoked(account, commitment, reasonCode);
    }

    // ===== COMPLIANCE =====

    /// @inheritdoc IIdentityRegistry
    function freeze(address account, uint32 reasonCode) external restricted {
        if (account == address(0)) revert IdentityRegistryZeroAddress();
        Record storage record = _records[account];
        if (record.frozen) revert IdentityRegistryAlreadyFrozen(account);
        record.frozen = true;
        emit AddressFrozen(account, reasonCode);
    }

    /// @inheritdoc IIdentityRegistry
    function unfreeze(address account, uint32 reasonCode) external restricted {
        Record storage record = _records[account];
        if (!record.frozen) revert IdentityRegistryNotFrozen(account);
        record.frozen = false;
        emit AddressUnfrozen(account, reasonCode);
    }

    /// @inheritdoc IIdentityRegistry
    function freezeIdentity(bytes32 commitment, uint32 reasonCode) external restricted {
        if (commitment == bytes32(0)) revert IdentityRegistryZeroCommitment();
        if (_frozenIdentities[commitment]) revert IdentityRegistryIdentityAlreadyFrozen(commitment);
        _setIdentityFrozen(commitment, true);
        emit IdentityFrozen(commitment, reasonCode);
    }

    /// @inheritdoc IIdentityRegistry
    function unfreezeIdentity(bytes32 commitment, uint32 reasonCode) external restricted {
        if (!_frozenIdentities[commitment]) revert IdentityRegistryIdentityNotFrozen(commitment);
        _setIdentityFrozen(commitment, false);
        emit IdentityUnfrozen(commitment, reasonCode);
    }

    // ===== PLATFORM =====

    /// @inheritdoc IIdentityRegistry
    function setOperatorAllowed(address operator, bool allowed) external restricted {
        if (operator == address(0)) revert IdentityRegistryZeroAddress();
        _allowedOperators[operator] = allowed;
        emit OperatorAllowanceChanged(operator, allowed);
    }

    // ===== GETTERS =====

    /// @inheritdoc IIdentityRegistry
    function isVerified(address account) external view returns (bool) {
        return _verified(_records[account]);
    }

    /// @inheritdoc IIdentityRegistry
    function holderOf(address account) external view returns (uint32 holderId, bool verified) {
        return _hotRead(_records[account]);
    }

    /// @inheritdoc IIdentityRegistry
    function partiesOf(
        address from,
        address to
    ) external view returns (uint32 fromHolderId, bool fromVerified, uint32 toHolderId, bool toVerified) {
        (fromHolderId, fromVerified) = _hotRead(_records[from]);
        (toHolderId, toVerified) = _hotRead(_records[to]);
    }

    /// @inheritdoc IIdentityRegistry
    function verifiedHolderIds(address[] calldata accounts) external view returns (uint32[] memory holderIds) {
        holderIds = new uint32[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            Record storage record = _records[accounts[i]];
            if (_verified(record)) holderIds[i] = record.holderId;
        }
    }

    /// @inheritdoc IIdentityRegistry
    function accountOf(uint32 holderId) external view returns (address) {
        return _holderAccounts[holderId];
    }

    /// @inheritdoc IIdentityRegistry
    function bindingOf(address account) external view returns (Binding memory) {
        Record storage record = _records[account];
        return
            Binding({
                commitment: record.commitment,
                expiresAt: record.expiresAt,
                level: record.level,
                frozen: record.frozen,
                holderId: record.holderId,
                identityFrozen: record.commitment != bytes32(0) && _frozenIdentities[record.commitment],
                active: record.active
            });
    }

    /// @inheritdoc IIdentityRegistry
    function identityOf(address account) external view returns (bytes32) {
        return _records[account].commitment;
    }

    /// @inheritdoc IIdentityRegistry
    function addressCountOf(bytes32 commitment) external view returns (uint256) {
        return _activeAddresses[commitment].length;
    }

    /// @inheritdoc IIdentityRegistry
    function addressesOf(bytes32 commitment) external view returns (address[] memory) {
        return _activeAddresses[commitment];
    }

    /// @inheritdoc IIdentityRegistry
    function isIdentityFrozen(bytes32 commitment) external view returns (bool) {
        return _frozenIdentities[commitment];
    }

    /// @inheritdoc IIdentityRegistry
    function maxAddressesPerIdentity() external view returns (uint256) {
        return _maxAddressesPerIdentity;
    }

    /// @inheritdoc IIdentityRegistry
    function isOperatorAllowed(address operator) external view returns (bool) {
        return _allowedOperators[operator];
    }

    // ===== INTERNAL =====

    function _bind(address account, bytes32 commitment, uint8 level, uint64 expiresAt, uint32 reasonCode) private {
        if (account == address(0)) revert IdentityRegistryZeroAddress();
        if (commitment == bytes32(0)) revert IdentityRegistryZeroCommitment();
        _checkTerms(level, expiresAt);

        Record storage record = _records[account];
        bytes32 current = record.commitment;
        if (current != bytes32(0) && current != commitment) {
            revert IdentityRegistryBoundToOtherIdentity(account, current);
        }
        if (record.active) {
            record.level = level;
            record.expiresAt = expiresAt;
            emit AddressReverified(account, level, expiresAt);
            return;
        }

        address[] storage addresses = _activeAddresses[commitment];
        if (addresses.length >= _maxAddressesPerIdentity) {
            revert IdentityRegistryTooManyAddresses(commitment, _maxAddressesPerIdentity);
        }
        addresses.push(account);
        uint32 holderId = record.holderId;
        if (holderId == 0) {
            holderId = ++_holderCount;
            record.holderId = holderId;
            _holderAccounts[holderId] = account;
            record.commitment = commitment;
        }
        record.level = level;
        record.expiresAt = expiresAt;
        record.identityFrozen = _frozenIdentities[commitment];
        record.active = true;
        emit AddressBound(account, commitment, holderId, level, expiresAt, reasonCode);
    }

    function _setIdentityFrozen(bytes32 commitment, bool frozen) private {
        _frozenIdentities[commitment] = frozen;
        address[] storage addresses = _activeAddresses[commitment];
        for (uint256 i = 0; i < addresses.length; ++i) {
            _records[addresses[i]].identityFrozen = frozen;
        }
    }

    function _checkTerms(uint8 level, uint64 expiresAt) private view {
        if (level == 0) revert IdentityRegistryInvalidLevel(level);
        if (expiresAt <= block.timestamp) revert IdentityRegistryInvalidExpiry(expiresAt);
    }

    /// @dev {holderOf} from one storage read of the record's hot slot (slot 1: expiresAt in bits 0-63,
    /// holderId 64-95, level 96-103, frozen 104-111, identityFrozen 112-119, active 120-127).
    function _hotRead(Record storage record) private view returns (uint32 holderId, bool verified) {
        uint256 word;
        assembly ("memory-safe") {
            word := sload(add(record.slot, 1))
        }
        holderId = uint32(word >> 64);
        verified = uint64(word) > block.timestamp && (word >> 104) & 0xffff == 0;
    }

    /// @dev Bound (a revoked address has no expiry), unexpired, and neither the address nor its identity frozen.
    function _verified(Record storage record) private view returns (bool) {
        return record.expiresAt > block.timestamp && !record.frozen && !record.identityFrozen;
    }
}
