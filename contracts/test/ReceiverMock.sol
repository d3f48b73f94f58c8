// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @notice A contract holder for tests: accepts, answers wrongly, or reverts on safe transfers.
contract ReceiverMock is IERC721Receiver {
    enum Mode {
        Accept,
        WrongAnswer,
        RevertWithError,
        RevertEmpty
    }

    /// @notice The reason given in `RevertWithError` mode.
    error ReceiverMockRefused();

    Mode private immutable _mode;

    constructor(Mode mode) {
        _mode = mode;
    }

    /// @inheritdoc IERC721Receiver
    function onERC721Received(address, address, uint256, bytes calldata) external view returns (bytes4) {
        if (_mode == Mode.RevertWithError) revert ReceiverMockRefused();
        if (_mode == Mode.RevertEmpty) revert();
        return _mode == Mode.Accept ? IERC721Receiver.onERC721Received.selector : bytes4(0xdeadbeef);
    }
}
