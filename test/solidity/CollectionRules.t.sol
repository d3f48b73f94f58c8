// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

import {Collection} from "../../contracts/Collection.sol";
import {CollectionFactory} from "../../contracts/CollectionFactory.sol";
import {IdentityRegistry} from "../../contracts/IdentityRegistry.sol";
import {ICollection} from "../../contracts/interfaces/ICollection.sol";
import {IERC7943NonFungible} from "../../contracts/interfaces/IERC7943.sol";
import {CheatsTest} from "./Cheats.sol";

/// @notice Property tests of the lock arithmetic and of the rule that no path
/// moves a locked token or reaches an unverified holder.
contract CollectionRulesTest is CheatsTest {
    uint64 private constant ROLE = 1;
    uint16 private constant LOCK_DAYS = 180;
    uint16 private constant REGIFT_DAYS = 730;
    uint256 private constant START = 1_800_000_000;

    address private constant ALICE = address(0xA11CE);
    address private constant BOB = address(0xB0B);
    address private constant OPERATOR = address(0x0FE2);

    IdentityRegistry private _registry;
    Collection private _collection;

    function setUp() public {
        VM.warp(START);
        AccessManager manager = new AccessManager(address(this));
        _registry = new IdentityRegistry(address(manager), 3);
        Collection implementation = new Collection(_registry);
        CollectionFactory factory = new CollectionFactory(
            address(manager),
            address(implementation),
            LOCK_DAYS,
            REGIFT_DAYS,
            address(this)
        );
        // The test contract is the deployer, hence the AccessManager admin: it may call every restricted function.
        bytes4[] memory compliance = new bytes4[](4);
        compliance[0] = Collection.forceTransfer.selector;
        compliance[1] = Collection.freezeToken.selector;
        compliance[2] = Collection.takedown.selector;
        compliance[3] = Collection.forcedTransfer.selector;
        factory.setCollectionFunctionRole(compliance, 0);

        _collection = Collection(
            factory.createCollection(
                ICollection.Terms({
                    name: "Rules",
                    symbol: "R",
                    issuer: address(this),
                    maxSupply: 1000,
                    lockDays: LOCK_DAYS,
                    regiftDays: REGIFT_DAYS,
                    contentHash: keccak256("media"),
                    baseURI: ""
                })
            )
        );
        uint64 expiry = uint64(START + 100 * 365 days);
        _registry.bind(ALICE, keccak256("alice"), 1, expiry);
        _registry.bind(BOB, keccak256("bob"), 1, expiry);
        _registry.setOperatorAllowed(OPERATOR, true);
    }

    // ===== LOCK ARITHMETIC =====

    function testFuzz_unlocksAtIsMintTimePlusLock(uint256 quantity, uint256 index) public {
        quantity = _bound(quantity, 1, 50);
        index = _bound(index, 1, quantity);
        _collection.mint(ALICE, quantity, 1, 1);
        _assertEq(_collection.unlocksAt(index), START + uint256(LOCK_DAYS) * 1 days, "mint lock");
    }

    function testFuzz_giftMovesExactlyAtUnlock(uint256 elapsed) public {
        elapsed = _bound(elapsed, 0, uint256(LOCK_DAYS) * 2 days);
        _collection.mint(ALICE, 1, 1, 1);
        VM.warp(START + elapsed);
        if (elapsed < uint256(LOCK_DAYS) * 1 days) {
            VM.expectRevert(
                abi.encodeWithSelector(ICollection.CollectionTokenLocked.selector, 1, START + uint256(LOCK_DAYS) * 1 days)
            );
        }
        VM.prank(ALICE);
        _collection.transferFrom(ALICE, BOB, 1);
        if (elapsed >= uint256(LOCK_DAYS) * 1 days) {
            _assertEq(_collection.ownerOf(1), BOB, "gifted");
            _assertEq(_collection.unlocksAt(1), START + elapsed + uint256(REGIFT_DAYS) * 1 days, "re-gift lock");
        }
    }

    // ===== NO PATH AROUND THE RULES =====

    function testFuzz_noPathMovesALockedToken(uint256 elapsed, uint8 path) public {
        elapsed = _bound(elapsed, 0, uint256(LOCK_DAYS) * 1 days - 1);
        _collection.mint(ALICE, 1, 1, 1);
        VM.prank(ALICE);
        _collection.setApprovalForAll(OPERATOR, true);
        VM.warp(START + elapsed);
        VM.expectRevert(
            abi.encodeWithSelector(ICollection.CollectionTokenLocked.selector, 1, START + uint256(LOCK_DAYS) * 1 days)
        );
        // Holder paths only: a compliance recovery skips the lock by design.
        _transferBy(path % 4, ALICE, BOB, 1);
    }

    function testFuzz_noPathReachesAnUnverifiedHolder(address to, uint8 path) public {
        VM.assume(to != ALICE && to != BOB);
        _collection.mint(ALICE, 1, 1, 1);
        VM.prank(ALICE);
        _collection.setApprovalForAll(OPERATOR, true);
        VM.warp(START + uint256(REGIFT_DAYS) * 1 days);
        VM.expectRevert(abi.encodeWithSelector(IERC7943NonFungible.ERC7943CannotReceive.selector, to));
        _transferBy(path, ALICE, to, 1);
    }

    function testFuzz_noMintReachesAnUnverifiedHolder(address to, uint256 quantity) public {
        VM.assume(to != ALICE && to != BOB);
        quantity = _bound(quantity, 1, 20);
        VM.expectRevert(abi.encodeWithSelector(ICollection.CollectionUnverifiedAccount.selector, to));
        _collection.mint(to, quantity, 1, 1);
    }

    function testFuzz_ownersStayRightAcrossBatchesAndGifts(uint256 first, uint256 second, uint256 gifted) public {
        first = _bound(first, 1, 30);
        second = _bound(second, 1, 30);
        _collection.mint(ALICE, first, 1, 1);
        _collection.mint(BOB, second, first + 1, 2);
        gifted = _bound(gifted, 1, first);
        VM.warp(START + uint256(LOCK_DAYS) * 1 days);
        VM.prank(ALICE);
        _collection.transferFrom(ALICE, BOB, gifted);
        for (uint256 tokenId = 1; tokenId <= first + second; ++tokenId) {
            address expected = tokenId == gifted || tokenId > first ? BOB : ALICE;
            _assertEq(_collection.ownerOf(tokenId), expected, "owner");
        }
        _assertEq(_collection.balanceOf(ALICE), first - 1, "alice balance");
        _assertEq(_collection.balanceOf(BOB), second + 1, "bob balance");
    }

    /// @dev Path 0: holder transferFrom; 1: safeTransferFrom; 2: safeTransferFrom with data;
    /// 3: operator transferFrom; 4: compliance forceTransfer (only its recipient rule applies).
    function _transferBy(uint8 path, address from, address to, uint256 tokenId) private {
        uint8 which = path % 5;
        if (which == 4) {
            _collection.forceTransfer(tokenId, to, 1);
            return;
        }
        VM.prank(which == 3 ? OPERATOR : from);
        if (which == 0 || which == 3) _collection.transferFrom(from, to, tokenId);
        else if (which == 1) _collection.safeTransferFrom(from, to, tokenId);
        else _collection.safeTransferFrom(from, to, tokenId, "gift");
    }
}
