// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721A} from "erc721a/contracts/ERC721A.sol";

/**
 * @title Gas-benchmark baselines
 * @notice Plain tokens with no rules at all, measured beside the platform's
 * collection by `npm run bench:gas`. Never deployed outside the benchmark.
 */
contract BaselineOZ721 is ERC721 {
    constructor() ERC721("Baseline OZ", "BOZ") {}

    /// @notice Mints `tokenId` to `to` with no checks.
    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}

/// @notice Plain ERC721A batch mint with no checks.
contract Baseline721A is ERC721A {
    constructor() ERC721A("Baseline 721A", "B721A") {}

    /// @notice Mints `quantity` tokens to `to`.
    function mint(address to, uint256 quantity) external {
        _mint(to, quantity);
    }
}
