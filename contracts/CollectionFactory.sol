// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IAccessManager} from "@openzeppelin/contracts/access/manager/IAccessManager.sol";
import {IAuthority} from "@openzeppelin/contracts/access/manager/IAuthority.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

import {Collection} from "./Collection.sol";
import {ICollection} from "./interfaces/ICollection.sol";
import {ICollectionFactory} from "./interfaces/ICollectionFactory.sol";

/**
 * @title CollectionFactory
 * @notice See {ICollectionFactory}.
 * @dev Answering `canCall` for its collections spares the AccessManager a
 * per-clone `setTargetFunctionRole` (which only its admin may call), so the
 * factory needs no admin power. Members with an execution delay are refused:
 * collections have no scheduling.
 */
contract CollectionFactory is AccessManaged, IAuthority, ICollectionFactory {
    address private immutable _implementation;
    uint256 private immutable _minLockDays;
    uint256 private immutable _minRegiftDays;

    address private _defaultMinter;
    address[] private _collections;
    mapping(address collection => bool) private _isCollection;
    /// @dev roleId + 1, so that zero means "no role set" (role 0 is the AccessManager's admin).
    mapping(bytes4 selector => uint256) private _functionRolesPlusOne;

    /**
     * @param authority The platform's AccessManager.
     * @param implementation_ The {Collection} implementation to clone.
     * @param minLockDays_ Platform minimum lock in days (at least 180).
     * @param minRegiftDays_ Platform minimum re-gift lock in days (at least the minimum lock).
     * @param defaultMinter_ The platform's minting account.
     */
    constructor(
        address authority,
        address implementation_,
        uint256 minLockDays_,
        uint256 minRegiftDays_,
        address defaultMinter_
    ) AccessManaged(authority) {
        uint256 floor = Collection(implementation_).LOCK_FLOOR_DAYS();
        if (minLockDays_ < floor || minRegiftDays_ < minLockDays_ || defaultMinter_ == address(0)) {
            revert FactoryInvalidConfiguration();
        }
        _implementation = implementation_;
        _minLockDays = minLockDays_;
        _minRegiftDays = minRegiftDays_;
        _setDefaultMinter(defaultMinter_);
    }

    // ===== PUBLISHER =====

    /// @inheritdoc ICollectionFactory
    function createCollection(ICollection.Terms calldata terms) external restricted returns (address collection) {
        if (terms.lockDays < _minLockDays) revert FactoryLockBelowMinimum(terms.lockDays, _minLockDays);
        if (terms.regiftDays < _minRegiftDays) revert FactoryRegiftBelowMinimum(terms.regiftDays, _minRegiftDays);
        collection = Clones.clone(_implementation);
        _isCollection[collection] = true;
        _collections.push(collection);
        Collection(collection).initialize(terms, address(this), _defaultMinter);
        emit CollectionCreated(collection, terms.issuer, _collections.length - 1);
    }

    // ===== PLATFORM ADMIN =====

    /// @inheritdoc ICollectionFactory
    function setCollectionFunctionRole(bytes4[] calldata selectors, uint64 roleId) external restricted {
        for (uint256 i = 0; i < selectors.length; ++i) {
            _functionRolesPlusOne[selectors[i]] = uint256(roleId) + 1;
            emit CollectionFunctionRoleSet(selectors[i], roleId);
        }
    }

    /// @inheritdoc ICollectionFactory
    function setDefaultMinter(address minter) external restricted {
        if (minter == address(0)) revert FactoryInvalidConfiguration();
        _setDefaultMinter(minter);
    }

    // ===== AUTHORITY =====

    /// @inheritdoc IAuthority
    function canCall(address caller, address target, bytes4 selector) external view returns (bool allowed) {
        uint256 rolePlusOne = _functionRolesPlusOne[selector];
        if (!_isCollection[target] || rolePlusOne == 0) return false;
        (bool isMember, uint32 executionDelay) = IAccessManager(authority()).hasRole(
            uint64(rolePlusOne - 1),
            caller
        );
        return isMember && executionDelay == 0;
    }

    // ===== GETTERS =====

    /// @inheritdoc ICollectionFactory
    function implementation() external view returns (address) {
        return _implementation;
    }

    /// @inheritdoc ICollectionFactory
    function isCollection(address collection) external view returns (bool) {
        return _isCollection[collection];
    }

    /// @inheritdoc ICollectionFactory
    function collectionCount() external view returns (uint256) {
        return _collections.length;
    }

    /// @inheritdoc ICollectionFactory
    function collectionAt(uint256 index) external view returns (address) {
        return _collections[index];
    }

    /// @inheritdoc ICollectionFactory
    function collectionFunctionRole(bytes4 selector) external view returns (bool isSet, uint64 roleId) {
        uint256 rolePlusOne = _functionRolesPlusOne[selector];
        if (rolePlusOne == 0) return (false, 0);
        return (true, uint64(rolePlusOne - 1));
    }

    /// @inheritdoc ICollectionFactory
    function minLockDays() external view returns (uint256) {
        return _minLockDays;
    }

    /// @inheritdoc ICollectionFactory
    function minRegiftDays() external view returns (uint256) {
        return _minRegiftDays;
    }

    /// @inheritdoc ICollectionFactory
    function defaultMinter() external view returns (address) {
        return _defaultMinter;
    }

    // ===== INTERNAL =====

    function _setDefaultMinter(address minter) private {
        address previous = _defaultMinter;
        _defaultMinter = minter;
        emit DefaultMinterChanged(previous, minter);
    }
}
