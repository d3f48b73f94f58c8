// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ICollection} from "./ICollection.sol";

/**
 * @title Factory of the platform's collections
 * @notice Creates each issuer's series as a cheap clone of one audited
 * implementation, with the platform's registry, lock floors and roles fixed.
 * It is also the access authority of every collection it creates: the
 * restricted functions of a collection map to AccessManager roles here, once
 * for all collections.
 */
interface ICollectionFactory {
    // ===== EVENTS =====

    /// @notice `collection` was created for `issuer` as the `index`-th collection.
    event CollectionCreated(address indexed collection, address indexed issuer, uint256 index);

    /// @notice Collection function `selector` now requires `roleId`.
    event CollectionFunctionRoleSet(bytes4 indexed selector, uint64 roleId);

    /// @notice New collections will be minted by `minter`.
    event DefaultMinterChanged(address indexed previousMinter, address indexed newMinter);

    // ===== ERRORS =====

    /**
     * @notice The terms ask for a lock below the platform's minimum.
     * @param lockDays The lock asked for, in days.
     * @param minLockDays The platform minimum, in days.
     */
    error FactoryLockBelowMinimum(uint256 lockDays, uint256 minLockDays);

    /**
     * @notice The terms ask for a re-gift lock below the platform's minimum.
     * @param regiftDays The re-gift lock asked for, in days.
     * @param minRegiftDays The platform minimum, in days.
     */
    error FactoryRegiftBelowMinimum(uint256 regiftDays, uint256 minRegiftDays);

    /**
     * @notice A platform minimum below the 180-day floor, or a zero address.
     */
    error FactoryInvalidConfiguration();

    // ===== PUBLISHER =====

    /**
     * @notice Creates a collection for an approved series.
     *
     * Requirements:
     * - caller holds the publisher role;
     * - the lock periods meet the platform minimums (and the collection's 180-day floor).
     *
     * Emits a {CollectionCreated} event.
     */
    function createCollection(ICollection.Terms calldata terms) external returns (address collection);

    // ===== PLATFORM ADMIN =====

    /**
     * @notice Makes `selectors` of every collection require `roleId` of the AccessManager.
     * Emits a {CollectionFunctionRoleSet} event per selector.
     */
    function setCollectionFunctionRole(bytes4[] calldata selectors, uint64 roleId) external;

    /// @notice Sets the minter of collections created from now on. Emits a {DefaultMinterChanged} event.
    function setDefaultMinter(address minter) external;

    // ===== GETTERS =====

    /// @notice The implementation every collection clones.
    function implementation() external view returns (address);

    /// @notice True when `collection` was created here.
    function isCollection(address collection) external view returns (bool);

    /// @notice How many collections exist.
    function collectionCount() external view returns (uint256);

    /// @notice The `index`-th collection.
    function collectionAt(uint256 index) external view returns (address);

    /// @notice The role a collection function requires, and whether one is set.
    function collectionFunctionRole(bytes4 selector) external view returns (bool isSet, uint64 roleId);

    /// @notice The lowest lock new collections may have, in days.
    function minLockDays() external view returns (uint256);

    /// @notice The lowest re-gift lock new collections may have, in days.
    function minRegiftDays() external view returns (uint256);

    /// @notice The minter of collections created from now on.
    function defaultMinter() external view returns (address);
}
