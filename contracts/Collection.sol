// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManagedUpgradeable} from "@openzeppelin/contracts-upgradeable/access/manager/AccessManagedUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {ERC721AUpgradeable} from "erc721a-upgradeable/contracts/ERC721AUpgradeable.sol";

import {ICollection} from "./interfaces/ICollection.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/**
 * @title Collection
 * @notice One artwork series. See {ICollection}.
 * @dev Deployed once as an implementation and cloned by the {CollectionFactory}.
 * The identity registry is an immutable of the implementation, so every clone
 * checks the platform's registry and none can be pointed elsewhere.
 *
 * Every rule lives in {_beforeTokenTransfers}, which ERC721A runs for mints,
 * `transferFrom`, both `safeTransferFrom` and operator transfers alike, and
 * {forceTransfer} goes through `transferFrom` too.
 *
 * The lock needs no storage of its own: ERC721A's packed ownership already
 * holds the acquisition time, and its 24-bit extra data records how the token
 * was acquired ({Acquisition}), which selects the lock period.
 */
contract Collection is Initializable, ERC721AUpgradeable, AccessManagedUpgradeable, ICollection, IERC5192 {
    /// @notice The lowest lock any collection may have: 180 days, whatever the issuer asks.
    uint256 public constant LOCK_FLOOR = 180 days;

    /// @dev Everything a mint or a transfer reads, packed in one slot.
    struct Policy {
        address minter;
        uint32 lockPeriod;
        uint32 regiftPeriod;
        uint24 maxSupply;
        bool paused;
    }

    IIdentityRegistry private immutable _registry;

    Policy private _policy;
    address private _issuer;
    bytes32 private _contentHash;
    string private _baseTokenURI;
    mapping(uint256 tokenId => bool) private _frozenTokens;
    mapping(uint256 tokenId => bytes32) private _editionContentHashes;

    /// @dev Set only inside {forceTransfer}; lets that one transfer skip the holder's rules.
    bool private transient _recovering;

    /// @param registry The platform's identity registry.
    constructor(IIdentityRegistry registry) {
        _registry = registry;
        _disableInitializers();
    }

    /**
     * @notice Sets up a clone. Called once, by the factory, in the clone's creation transaction.
     * @param terms The series' terms.
     * @param authority Who answers the `restricted` checks (the factory).
     * @param initialMinter The platform account that mints.
     */
    function initialize(
        Terms calldata terms,
        address authority,
        address initialMinter
    ) external initializer initializerERC721A {
        if (terms.maxSupply == 0) revert CollectionZeroSupply();
        if (terms.lockPeriod < LOCK_FLOOR) revert CollectionLockBelowFloor(terms.lockPeriod, LOCK_FLOOR);
        if (terms.regiftPeriod < terms.lockPeriod) {
            revert CollectionRegiftBelowLock(terms.regiftPeriod, terms.lockPeriod);
        }
        if (terms.contentHash == bytes32(0) || terms.issuer == address(0) || initialMinter == address(0)) {
            revert CollectionInvalidTerms();
        }
        __ERC721A_init(terms.name, terms.symbol);
        __AccessManaged_init(authority);
        _policy = Policy({
            minter: initialMinter,
            lockPeriod: terms.lockPeriod,
            regiftPeriod: terms.regiftPeriod,
            maxSupply: terms.maxSupply,
            paused: false
        });
        _issuer = terms.issuer;
        _contentHash = terms.contentHash;
        _baseTokenURI = terms.baseURI;
        emit MinterChanged(address(0), initialMinter);
    }

    // ===== MINTER =====

    /// @inheritdoc ICollection
    function mint(address to, uint256 quantity, uint256 expectedFirstTokenId, bytes32 batchId) external {
        _checkMint(quantity, expectedFirstTokenId);
        _mint(to, quantity);
        emit BatchMinted(batchId, expectedFirstTokenId, quantity);
    }

    /// @inheritdoc ICollection
    function mintEach(address[] calldata recipients, uint256 expectedFirstTokenId, bytes32 batchId) external {
        uint256 count = recipients.length;
        _checkMint(count, expectedFirstTokenId);
        for (uint256 i = 0; i < count; ++i) {
            _mint(recipients[i], 1);
        }
        emit BatchMinted(batchId, expectedFirstTokenId, count);
    }

    // ===== COMPLIANCE =====

    /// @inheritdoc ICollection
    function freezeToken(uint256 tokenId, uint32 reasonCode) external restricted {
        if (!_exists(tokenId)) revert CollectionNonexistentEdition(tokenId);
        if (_frozenTokens[tokenId]) revert CollectionTokenFrozen(tokenId);
        _frozenTokens[tokenId] = true;
        emit TokenFrozen(tokenId, reasonCode);
    }

    /// @inheritdoc ICollection
    function unfreezeToken(uint256 tokenId, uint32 reasonCode) external restricted {
        if (!_frozenTokens[tokenId]) revert CollectionTokenNotFrozen(tokenId);
        _frozenTokens[tokenId] = false;
        emit TokenUnfrozen(tokenId, reasonCode);
    }

    /// @inheritdoc ICollection
    function pause(uint32 reasonCode) external restricted {
        if (_policy.paused) revert CollectionPausedError();
        _policy.paused = true;
        emit CollectionPaused(reasonCode);
    }

    /// @inheritdoc ICollection
    function unpause(uint32 reasonCode) external restricted {
        if (!_policy.paused) revert CollectionNotPaused();
        _policy.paused = false;
        emit CollectionUnpaused(reasonCode);
    }

    /// @inheritdoc ICollection
    function forceTransfer(uint256 tokenId, address to, uint32 reasonCode) external restricted {
        address from = ownerOf(tokenId);
        _recovering = true;
        transferFrom(from, to, tokenId);
        _recovering = false;
        emit ForcedTransfer(tokenId, from, to, reasonCode);
    }

    // ===== PLATFORM =====

    /// @inheritdoc ICollection
    function setMinter(address newMinter) external restricted {
        if (newMinter == address(0)) revert CollectionInvalidTerms();
        address previous = _policy.minter;
        _policy.minter = newMinter;
        emit MinterChanged(previous, newMinter);
    }

    /// @inheritdoc ICollection
    function setEditionContentHashes(
        uint256[] calldata tokenIds,
        bytes32[] calldata contentHashes
    ) external restricted {
        if (tokenIds.length != contentHashes.length) revert CollectionLengthMismatch();
        uint256 supply = _policy.maxSupply;
        for (uint256 i = 0; i < tokenIds.length; ++i) {
            uint256 tokenId = tokenIds[i];
            bytes32 hash = contentHashes[i];
            if (tokenId == 0 || tokenId > supply) revert CollectionNonexistentEdition(tokenId);
            if (hash == bytes32(0)) revert CollectionInvalidTerms();
            if (_editionContentHashes[tokenId] != bytes32(0)) revert CollectionContentHashAlreadySet(tokenId);
            _editionContentHashes[tokenId] = hash;
            emit EditionContentHashSet(tokenId, hash);
        }
    }

    // ===== APPROVALS =====

    /// @dev Only operators the platform allows may be approved; clearing an approval is always possible.
    function approve(address to, uint256 tokenId) public payable override {
        if (to != address(0)) _checkOperator(to);
        super.approve(to, tokenId);
    }

    /// @dev Only operators the platform allows may be approved; revoking is always possible.
    function setApprovalForAll(address operator, bool approved) public override {
        if (approved) _checkOperator(operator);
        super.setApprovalForAll(operator, approved);
    }

    /// @dev During {forceTransfer} the compliance caller acts for the holder.
    function isApprovedForAll(address owner, address operator) public view override returns (bool) {
        return _recovering || super.isApprovedForAll(owner, operator);
    }

    // ===== GETTERS =====

    /// @inheritdoc ICollection
    function unlocksAt(uint256 tokenId) public view returns (uint256) {
        return _unlocksAt(_ownershipOf(tokenId), _policy);
    }

    /// @inheritdoc ICollection
    function acquisitionOf(uint256 tokenId) external view returns (Acquisition how, uint256 acquiredAt) {
        TokenOwnership memory ownership = _ownershipOf(tokenId);
        return (Acquisition(ownership.extraData), ownership.startTimestamp);
    }

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        return block.timestamp < unlocksAt(tokenId) || _frozenTokens[tokenId] || _policy.paused;
    }

    /// @inheritdoc ICollection
    function canTransfer(address from, address to, uint256 tokenId) external view returns (bool) {
        if (!_exists(tokenId) || ownerOf(tokenId) != from) return false;
        return
            !_policy.paused &&
            !_frozenTokens[tokenId] &&
            block.timestamp >= unlocksAt(tokenId) &&
            _registry.isVerified(from) &&
            _registry.isVerified(to);
    }

    /// @inheritdoc ICollection
    function canTransact(address account) external view returns (bool) {
        return _registry.isVerified(account);
    }

    /// @inheritdoc ICollection
    function isTokenFrozen(uint256 tokenId) external view returns (bool) {
        return _frozenTokens[tokenId];
    }

    /// @inheritdoc ICollection
    function paused() external view returns (bool) {
        return _policy.paused;
    }

    /// @inheritdoc ICollection
    function contentHashOf(uint256 tokenId) external view returns (bytes32) {
        if (tokenId == 0 || tokenId > _policy.maxSupply) revert CollectionNonexistentEdition(tokenId);
        bytes32 own = _editionContentHashes[tokenId];
        return own == bytes32(0) ? _contentHash : own;
    }

    /// @inheritdoc ICollection
    function contentHash() external view returns (bytes32) {
        return _contentHash;
    }

    /// @inheritdoc ICollection
    function issuer() external view returns (address) {
        return _issuer;
    }

    /// @inheritdoc ICollection
    function minter() external view returns (address) {
        return _policy.minter;
    }

    /// @inheritdoc ICollection
    function maxSupply() external view returns (uint256) {
        return _policy.maxSupply;
    }

    /// @inheritdoc ICollection
    function lockPeriod() external view returns (uint256) {
        return _policy.lockPeriod;
    }

    /// @inheritdoc ICollection
    function regiftPeriod() external view returns (uint256) {
        return _policy.regiftPeriod;
    }

    /// @inheritdoc ICollection
    function nextTokenId() external view returns (uint256) {
        return _nextTokenId();
    }

    /// @inheritdoc ICollection
    function identityRegistry() external view returns (address) {
        return address(_registry);
    }

    /// @dev Advertises ERC-721, its metadata, ERC-165 and ERC-5192.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    // ===== TRANSFER RULES =====

    /**
     * @dev The one place every compliance rule is enforced. ERC721A calls it with
     * `quantity == 1` for transfers and never burns here (the collection has no burn).
     */
    function _beforeTokenTransfers(address from, address to, uint256 tokenId, uint256) internal view override {
        Policy memory policy = _policy;
        bool recovering = _recovering;
        if (policy.paused && !recovering) revert CollectionPausedError();
        if (!_registry.isVerified(to)) revert CollectionUnverifiedAccount(to);
        if (from == address(0) || recovering) return;

        if (_frozenTokens[tokenId]) revert CollectionTokenFrozen(tokenId);
        if (msg.sender != from && !_registry.isOperatorAllowed(msg.sender)) {
            revert CollectionOperatorNotAllowed(msg.sender);
        }
        if (!_registry.isVerified(from)) revert CollectionUnverifiedAccount(from);
        uint256 unlock = _unlocksAt(_ownershipOf(tokenId), policy);
        if (block.timestamp < unlock) revert CollectionTokenLocked(tokenId, unlock);
    }

    /// @dev Records how the new holder acquired the token; it selects the next lock period.
    function _extraData(address from, address, uint24) internal view override returns (uint24) {
        if (from == address(0)) return uint24(uint8(Acquisition.Minted));
        return uint24(uint8(_recovering ? Acquisition.Recovered : Acquisition.Gifted));
    }

    function _startTokenId() internal pure override returns (uint256) {
        return 1;
    }

    function _baseURI() internal view override returns (string memory) {
        return _baseTokenURI;
    }

    // ===== INTERNAL =====

    function _checkMint(uint256 quantity, uint256 expectedFirstTokenId) private view {
        Policy memory policy = _policy;
        if (msg.sender != policy.minter) revert CollectionUnauthorizedMinter(msg.sender);
        if (quantity == 0) revert CollectionEmptyMint();
        uint256 next = _nextTokenId();
        if (next != expectedFirstTokenId) revert CollectionUnexpectedFirstToken(expectedFirstTokenId, next);
        uint256 total = next - 1 + quantity;
        if (total > policy.maxSupply) revert CollectionMaxSupplyExceeded(policy.maxSupply, total);
    }

    function _checkOperator(address operator) private view {
        if (!_registry.isOperatorAllowed(operator)) revert CollectionOperatorNotAllowed(operator);
    }

    function _unlocksAt(TokenOwnership memory ownership, Policy memory policy) private pure returns (uint256) {
        uint256 period = ownership.extraData == uint24(uint8(Acquisition.Gifted))
            ? policy.regiftPeriod
            : policy.lockPeriod;
        return ownership.startTimestamp + period;
    }
}
