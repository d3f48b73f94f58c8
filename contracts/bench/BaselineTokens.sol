// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721A} from "erc721a/contracts/ERC721A.sol";

/**
 * @title Gas-benchmark baselines
 * @notice Plain tokens with no rules at all, measured beside the platform's
 * collection by `npm run bench:gas`, doing the same work in one transaction
 * (N tokens to one holder, one token to each of N holders, a transfer). Never
 * deployed outside the benchmark.
 */
contract BaselineOZ721 is ERC721 {
    uint256 private _next = 1;

    constructor() ERC721("Baseline OZ", "BOZ") {}

    /// @notice The id the next {mintBatch} or {mintEach} token gets.
    function nextTokenId() external view returns (uint256) {
        return _next;
    }

    /// @notice Mints the next `quantity` tokens to `to`, one `_mint` each.
    function mintBatch(address to, uint256 quantity) external {
        uint256 next = _next;
        for (uint256 i = 0; i < quantity; ++i) _mint(to, next + i);
        _next = next + quantity;
    }

    /// @notice Mints the next token to each of `recipients`.
    function mintEach(address[] calldata recipients) external {
        uint256 next = _next;
        for (uint256 i = 0; i < recipients.length; ++i) _mint(recipients[i], next + i);
        _next = next + recipients.length;
    }
}

/// @notice Plain ERC721A with no checks.
contract Baseline721A is ERC721A {
    constructor() ERC721A("Baseline 721A", "B721A") {}

    /// @notice Mints `quantity` tokens to `to`.
    function mint(address to, uint256 quantity) external {
        _mint(to, quantity);
    }

    /// @notice Mints one token to each of `recipients`.
    function mintEach(address[] calldata recipients) external {
        for (uint256 i = 0; i < recipients.length; ++i) _mint(recipients[i], 1);
    }

    function _startTokenId() internal pure override returns (uint256) {
        return 1;
    }
}
