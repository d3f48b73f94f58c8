// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

/// @notice Clones a collection outside the factory, to show the collection guards its own floor.
contract CloneDeployer {
    /// @notice Emitted with the new clone's address.
    event Cloned(address clone);

    /// @notice Deploys an uninitialised clone of `implementation`.
    function clone(address implementation) external returns (address instance) {
        instance = Clones.clone(implementation);
        emit Cloned(instance);
    }
}
