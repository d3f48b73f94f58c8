// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The cheatcodes these tests use, as Hardhat's Solidity test runner exposes them at the standard address.
interface Cheats {
    /// @notice A log captured by {recordLogs}.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function warp(uint256 timestamp) external;
    function prank(address sender) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    function assume(bool condition) external pure;
}

/// @notice Base of the Solidity tests: the cheatcode handle and a range helper.
abstract contract CheatsTest {
    Cheats internal constant VM = Cheats(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev Maps `value` into [min, max] without discarding runs.
    function _bound(uint256 value, uint256 min, uint256 max) internal pure returns (uint256) {
        return min + (value % (max - min + 1));
    }

    function _assertEq(uint256 actual, uint256 expected, string memory what) internal pure {
        require(actual == expected, what);
    }

    function _assertEq(address actual, address expected, string memory what) internal pure {
        require(actual == expected, what);
    }
}
