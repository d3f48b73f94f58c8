// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";

import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/**
 * @title IdentityRegistry
 * @notice The platform's real-name allowlist. See {IIdentityRegistry}.
 * @dev Roles are wired in the AccessManager by the deployment module: the KYC
 * operator role may bind, reverify and revoke; the compliance role may freeze
 * and unfreeze; the platform admin role allows operators.
 */
contract IdentityRegistry is AccessManaged, IIdentityRegistry {
    uint256 private immutable _maxAddressesPerIdentity;

    mapping(address account => Binding) private _bindings;
    mapping(bytes32 commitment => uint256) private _addressCounts;
    mapping(address operator => bool) private _allowedOperators;
    mapping(uint32 holderId => address) private _holderAccounts;
    uint32 private _holderCount;

    /**
     * @param authority The platform's AccessManager.
     * @param maxAddressesPerIdentity_ How many addresses one identity may bind.
     */
    constructor(address authority, uint256 maxAddressesPerIdentity_) AccessManaged(authority) {
        if (maxAddressesPerIdentity_ == 0) revert IdentityRegistryInvalidAddressLimit();
        _maxAddressesPerIdentity = maxAddressesPerIdentity_;
    }

    // ===== KYC OPERATOR =====

    /// @inheritdoc IIdentityRegistry
    function bind(address account, bytes32 commitment, uint8 level, uint64 expiresAt) external restricted {
        _bind(account, commitment, level, expiresAt);
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
            _bind(accounts[i], commitments[i], level, expiresAt);
        }
    }

    /// @inheritdoc IIdentityRegistry
    function reverify(address account, uint8 level, uint64 expiresAt) external restricted {
        Binding storage binding = _bindings[account];
        if (binding.commitment == bytes32(0)) revert IdentityRegistryNotBound(account);
        _checkTerms(level, expiresAt);
        binding.level = level;
        binding.expiresAt = expiresAt;
        emit AddressReverified(account, level, expiresAt);
    }

    /// @inheritdoc IIdentityRegistry
    function revoke(address account) external restricted {
        Binding storage binding = _bindings[account];
        bytes32 commitment = binding.commitment;
        if (commitment == bytes32(0)) revert IdentityRegistryNotBound(account);
        // The frozen flag survives: only the compliance role lifts a freeze.
        binding.commitment = bytes32(0);
        binding.level = 0;
        binding.expiresAt = 0;
        --_addressCounts[commitment];
        emit AddressRevoked(account, commitment);
    }

    // ===== COMPLIANCE =====

    /// @inheritdoc IIdentityRegistry
    function freeze(address account, uint32 reasonCode) external restricted {
        if (account == address(0)) revert IdentityRegistryZeroAddress();
        Binding storage binding = _bindings[account];
        if (binding.frozen) revert IdentityRegistryAlreadyFrozen(account);
        binding.frozen = true;
        emit AddressFrozen(account, reasonCode);
    }

    /// @inheritdoc IIdentityRegistry
    function unfreeze(address account, uint32 reasonCode) external restricted {
        Binding storage binding = _bindings[account];
        if (!binding.frozen) revert IdentityRegistryNotFrozen(account);
        binding.frozen = false;
        emit AddressUnfrozen(account, reasonCode);
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
        Binding storage binding = _bindings[account];
        // expiresAt is zero for an unbound address, so one slot answers all three questions.
        return binding.expiresAt > block.timestamp && !binding.frozen;
    }

    /// @inheritdoc IIdentityRegistry
    function holderOf(address account) external view returns (uint32 holderId, bool verified) {
        Binding storage binding = _bindings[account];
        return (binding.holderId, binding.expiresAt > block.timestamp && !binding.frozen);
    }

    /// @inheritdoc IIdentityRegistry
    function verifiedHolderIds(address[] calldata accounts) external view returns (uint32[] memory holderIds) {
        holderIds = new uint32[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            Binding storage binding = _bindings[accounts[i]];
            if (binding.expiresAt > block.timestamp && !binding.frozen) holderIds[i] = binding.holderId;
        }
    }

    /// @inheritdoc IIdentityRegistry
    function accountOf(uint32 holderId) external view returns (address) {
        return _holderAccounts[holderId];
    }

    /// @inheritdoc IIdentityRegistry
    function bindingOf(address account) external view returns (Binding memory) {
        return _bindings[account];
    }

    /// @inheritdoc IIdentityRegistry
    function addressCountOf(bytes32 commitment) external view returns (uint256) {
        return _addressCounts[commitment];
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

    function _bind(address account, bytes32 commitment, uint8 level, uint64 expiresAt) private {
        if (account == address(0)) revert IdentityRegistryZeroAddress();
        if (commitment == bytes32(0)) revert IdentityRegistryZeroCommitment();
        _checkTerms(level, expiresAt);

        Binding storage binding = _bindings[account];
        bytes32 current = binding.commitment;
        if (current == commitment) {
            binding.level = level;
            binding.expiresAt = expiresAt;
            emit AddressReverified(account, level, expiresAt);
            return;
        }
        if (current != bytes32(0)) revert IdentityRegistryBoundToOtherIdentity(account, current);

        uint256 count = _addressCounts[commitment];
        if (count >= _maxAddressesPerIdentity) {
            revert IdentityRegistryTooManyAddresses(commitment, _maxAddressesPerIdentity);
        }
        _addressCounts[commitment] = count + 1;
        uint32 holderId = binding.holderId;
        if (holderId == 0) {
            holderId = ++_holderCount;
            binding.holderId = holderId;
            _holderAccounts[holderId] = account;
        }
        binding.commitment = commitment;
        binding.level = level;
        binding.expiresAt = expiresAt;
        emit AddressBound(account, commitment, holderId, level, expiresAt);
    }

    function _checkTerms(uint8 level, uint64 expiresAt) private view {
        if (level == 0) revert IdentityRegistryInvalidLevel(level);
        if (expiresAt <= block.timestamp) revert IdentityRegistryInvalidExpiry(expiresAt);
    }
}
