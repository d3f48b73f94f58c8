// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title ERC-5192: minimal soulbound interface
 * @notice Lets wallets and indexers ask whether a token can move.
 * @dev The platform's collections emit {Locked} when a token is minted or moved and is locked
 * afterwards. Their locks end by the clock, not by a transaction, so no {Unlocked} event marks
 * the end: read the time with `unlocksAt(tokenId)` (or ask {locked} at any time).
 */
interface IERC5192 {
    /// @notice Emitted when the locking status of `tokenId` changes to locked.
    event Locked(uint256 tokenId);

    /// @notice Emitted when the locking status of `tokenId` changes to unlocked.
    event Unlocked(uint256 tokenId);

    /// @notice True when `tokenId` cannot be transferred now.
    function locked(uint256 tokenId) external view returns (bool);
}
