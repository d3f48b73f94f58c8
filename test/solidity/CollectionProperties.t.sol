// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

import {Collection} from "../../contracts/Collection.sol";
import {CollectionFactory} from "../../contracts/CollectionFactory.sol";
import {IdentityRegistry} from "../../contracts/IdentityRegistry.sol";
import {ICollection} from "../../contracts/interfaces/ICollection.sol";
import {Cheats, CheatsTest} from "./Cheats.sol";

/// @notice Properties over random sequences of every path (gifts, self-gifts, forced transfers to the
/// same person, to the same address and to another person, freezes, revocations and rebinding attempts,
/// identity freezes, mints, takedowns, time passing): no path shortens a lock, and no token changes
/// owner without a Transfer event.
contract CollectionPropertiesTest is CheatsTest {
    uint16 private constant LOCK_DAYS = 180;
    uint16 private constant REGIFT_DAYS = 730;
    uint256 private constant START = 1_800_000_000;
    uint256 private constant STEPS = 12;
    bytes32 private constant TRANSFER = keccak256("Transfer(address,address,uint256)");

    IdentityRegistry private _registry;
    Collection private _collection;
    address[4] private _people;
    bytes32[4] private _identities;

    function setUp() public {
        VM.warp(START);
        AccessManager manager = new AccessManager(address(this));
        _registry = new IdentityRegistry(address(manager), 3);
        CollectionFactory factory = new CollectionFactory(
            address(manager),
            address(new Collection(_registry)),
            LOCK_DAYS,
            REGIFT_DAYS,
            address(this)
        );
        // The test contract is the AccessManager admin (role 0): it may call every restricted function.
        bytes4[] memory compliance = new bytes4[](5);
        compliance[0] = Collection.forceTransfer.selector;
        compliance[1] = Collection.freezeToken.selector;
        compliance[2] = Collection.unfreezeToken.selector;
        compliance[3] = Collection.takedown.selector;
        compliance[4] = Collection.setFrozenTokens.selector;
        factory.setCollectionFunctionRole(compliance, 0);
        _collection = Collection(
            factory.createCollection(
                ICollection.Terms({
                    name: "Props",
                    symbol: "P",
                    issuer: address(this),
                    maxSupply: 1000,
                    lockDays: LOCK_DAYS,
                    regiftDays: REGIFT_DAYS,
                    contentHash: keccak256("media"),
                    baseURI: ""
                })
            )
        );
        // Two wallets of one person (alice), and two other people.
        _people = [address(0xA11CE), address(0xA11CE2), address(0xB0B), address(0xCA201)];
        _identities = [keccak256("alice"), keccak256("alice"), keccak256("bob"), keccak256("carol")];
        for (uint256 i = 0; i < 4; ++i) _registry.bind(_people[i], _identities[i], 1, _expiry());
        _collection.mint(_people[0], 5, 1, 1);
        address[] memory each = new address[](3);
        (each[0], each[1], each[2]) = (_people[2], _people[1], _people[3]);
        _collection.mintEach(each, 6, 2);
    }

    /// forge-config: default.fuzz.runs = 256
    function testFuzz_noPathShortensALock(uint256 seed) public {
        for (uint256 step = 0; step < STEPS; ++step) {
            uint256 supply = _collection.nextTokenId() - 1;
            uint256[] memory before = new uint256[](supply + 1);
            bool[] memory existed = new bool[](supply + 1);
            for (uint256 t = 1; t <= supply; ++t) {
                (existed[t], before[t]) = _unlocksAtIfExists(t);
            }
            _randomStep(uint256(keccak256(abi.encode(seed, step))));
            for (uint256 t = 1; t <= supply; ++t) {
                (bool exists, uint256 afterwards) = _unlocksAtIfExists(t);
                if (existed[t] && exists) require(afterwards >= before[t], "a path shortened a lock");
            }
        }
    }

    /// forge-config: default.fuzz.runs = 256
    function testFuzz_noTokenChangesOwnerWithoutATransferEvent(uint256 seed) public {
        for (uint256 step = 0; step < STEPS; ++step) {
            uint256 supply = _collection.nextTokenId() - 1;
            address[] memory owners = new address[](supply + 1);
            for (uint256 t = 1; t <= supply; ++t) owners[t] = _ownerIfExists(t);
            VM.recordLogs();
            _randomStep(uint256(keccak256(abi.encode(seed, step))));
            Cheats.Log[] memory logs = VM.getRecordedLogs();
            for (uint256 t = 1; t <= supply; ++t) {
                address now_ = _ownerIfExists(t);
                if (now_ != owners[t]) {
                    require(_hasTransfer(logs, owners[t], now_, t), "a token changed owner without a Transfer event");
                }
            }
        }
    }

    // ===== STEPS =====

    function _randomStep(uint256 r) private {
        VM.warp(block.timestamp + (r % 400) * 1 days);
        uint256 supply = _collection.nextTokenId() - 1;
        uint256 tokenId = 1 + ((r >> 16) % supply);
        address to = _people[(r >> 32) % 4];
        address owner = _ownerIfExists(tokenId);
        uint256 op = (r >> 48) % 10;
        if (op == 0 && owner != address(0)) {
            VM.prank(owner);
            try _collection.transferFrom(owner, to, tokenId) {} catch {}
        } else if (op == 1 && owner != address(0)) {
            VM.prank(owner);
            try _collection.transferFrom(owner, owner, tokenId) {} catch {}
        } else if (op == 2) {
            try _collection.forceTransfer(tokenId, to, 1) {} catch {}
        } else if (op == 3 && owner != address(0)) {
            try _collection.forceTransfer(tokenId, owner, 2) {} catch {}
        } else if (op == 4) {
            try _collection.freezeToken(tokenId, 3) {} catch {
                try _collection.unfreezeToken(tokenId, 3) {} catch {}
            }
        } else if (op == 5) {
            // Revoke a wallet and try to give it to another person: refused; then bind it back.
            uint256 who = (r >> 32) % 4;
            try _registry.revoke(_people[who], 4) {} catch {}
            try _registry.bind(_people[who], keccak256(abi.encode("someone else", r)), 1, _expiry()) {} catch {}
            try _registry.bind(_people[who], _identities[who], 1, _expiry()) {} catch {}
        } else if (op == 6) {
            uint256 next = _collection.nextTokenId();
            try _collection.mint(to, 1 + ((r >> 64) % 4), next, 3) {} catch {}
        } else if (op == 7) {
            try _registry.freezeIdentity(_identities[(r >> 32) % 4], 5) {} catch {
                try _registry.unfreezeIdentity(_identities[(r >> 32) % 4], 5) {} catch {}
            }
        } else if (op == 8 && (r >> 80) % 8 == 0) {
            try _collection.takedown(tokenId, 6) {} catch {}
        } else if (op == 9) {
            try _collection.setFrozenTokens(to, tokenId, (r >> 80) % 2 == 0) {} catch {}
        }
    }

    // ===== HELPERS =====

    function _expiry() private view returns (uint64) {
        return uint64(block.timestamp + 100 * 365 days);
    }

    function _ownerIfExists(uint256 tokenId) private view returns (address) {
        try _collection.ownerOf(tokenId) returns (address owner) {
            return owner;
        } catch {
            return address(0);
        }
    }

    function _unlocksAtIfExists(uint256 tokenId) private view returns (bool, uint256) {
        try _collection.unlocksAt(tokenId) returns (uint256 unlock) {
            return (true, unlock);
        } catch {
            return (false, 0);
        }
    }

    function _hasTransfer(Cheats.Log[] memory logs, address from, address to, uint256 tokenId) private view returns (bool) {
        for (uint256 i = 0; i < logs.length; ++i) {
            Cheats.Log memory log = logs[i];
            if (
                log.emitter == address(_collection) &&
                log.topics.length == 4 &&
                log.topics[0] == TRANSFER &&
                log.topics[1] == bytes32(uint256(uint160(from))) &&
                log.topics[2] == bytes32(uint256(uint160(to))) &&
                uint256(log.topics[3]) == tokenId
            ) return true;
        }
        return false;
    }
}
