// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/**
 * @title ERC-7943 (uRWA), the interface for ERC-721 based implementations
 * @notice Compliance checks, frozen tokens and forced transfers of a permissioned token, as the
 * standard defines them (https://eips.ethereum.org/EIPS/eip-7943). Its ERC-165 interface id is
 * `0xbf1ef5fe`.
 */
interface IERC7943NonFungible is IERC165 {
    /// @notice Emitted when `tokenId` is taken from one address and transferred to another.
    event ForcedTransfer(address indexed from, address indexed to, uint256 indexed tokenId);

    /// @notice Emitted when the frozen status of `tokenId` for `account` changes.
    event Frozen(address indexed account, uint256 indexed tokenId, bool indexed frozenStatus);

    /// @notice `account` is not allowed to send tokens.
    error ERC7943CannotSend(address account);

    /// @notice `account` is not allowed to receive tokens.
    error ERC7943CannotReceive(address account);

    /// @notice A transfer of `tokenId` from `from` to `to` is not allowed by the token's rules.
    error ERC7943CannotTransfer(address from, address to, uint256 tokenId);

    /// @notice `tokenId`, held by `account`, is frozen.
    error ERC7943InsufficientUnfrozenBalance(address account, uint256 tokenId);

    /// @notice Takes `tokenId` from `from` and transfers it to `to` (restricted).
    /// @return result True when the transfer executed; reverts on failure.
    function forcedTransfer(address from, address to, uint256 tokenId) external returns (bool result);

    /// @notice Sets the frozen status of `tokenId` belonging to `account` (restricted).
    /// @return result True when the change executed; reverts on failure.
    function setFrozenTokens(address account, uint256 tokenId, bool frozenStatus) external returns (bool result);

    /// @notice Whether `account` may send tokens under the token's rules. Never reverts.
    function canSend(address account) external view returns (bool allowed);

    /// @notice Whether `account` may receive tokens under the token's rules. Never reverts.
    function canReceive(address account) external view returns (bool allowed);

    /// @notice Whether `tokenId` is frozen for `account` (may be true when `account` does not hold it).
    function getFrozenTokens(address account, uint256 tokenId) external view returns (bool frozenStatus);

    /// @notice Whether a transfer of `tokenId` from `from` to `to` is possible now under the token's rules. Never reverts.
    function canTransfer(address from, address to, uint256 tokenId) external view returns (bool allowed);
}
