// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {AccessManagedUpgradeable} from "@openzeppelin/contracts-upgradeable/access/manager/AccessManagedUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";

import {ICollection} from "./interfaces/ICollection.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/**
 * @title Collection
 * @notice One artwork series as an ERC-721 token. See {ICollection}.
 * @dev Deployed once as an implementation and cloned by the {CollectionFactory}.
 * The identity registry is an immutable of the implementation, so every clone
 * checks the platform's registry and none can be pointed elsewhere.
 *
 * Storage is shaped for flash-sale delivery. A token's owner is stored as an
 * 80-bit entry (registry holder number, acquisition time, how it was acquired),
 * three entries to a slot, so minting to many new holders writes a third of the
 * ownership slots a plain ERC-721 writes. As in ERC721A, a mint of several
 * tokens to one holder writes only the first token's entry; a zero entry means
 * "same owner as the token before". The acquisition time in the entry drives
 * the lock, so the lock costs no storage of its own.
 *
 * Every rule sits in one section, TRANSFER RULES: {_checkMint} for mints and
 * {_checkTransfer} for every transfer path (`transferFrom`, both
 * `safeTransferFrom`, approved operators and {forceTransfer}), all of which go
 * through {_transfer}.
 */
contract Collection is
    Initializable,
    AccessManagedUpgradeable,
    IERC721Metadata,
    IERC721Errors,
    ICollection,
    IERC5192
{
    /// @notice The lowest lock any collection may have, in days, whatever the issuer asks.
    uint256 public constant LOCK_FLOOR_DAYS = 180;

    uint256 private constant _ENTRY_BITS = 80;
    uint256 private constant _ENTRIES_PER_SLOT = 3;
    uint256 private constant _ENTRY_MASK = (1 << _ENTRY_BITS) - 1;
    uint256 private constant _HOLDER_MASK = (1 << 32) - 1;
    uint256 private constant _TIME_SHIFT = 32;
    uint256 private constant _TIME_MASK = (1 << 40) - 1;
    uint256 private constant _HOW_SHIFT = 72;

    /// @dev Everything a mint reads and writes, in one slot.
    struct Policy {
        address minter;
        uint24 nextTokenId;
        uint24 maxSupply;
        uint16 lockDays;
        uint16 regiftDays;
        bool paused;
    }

    IIdentityRegistry private immutable _registry;

    Policy private _policy;
    mapping(uint256 slot => uint256) private _ownerEntries;
    mapping(address owner => uint256) private _balances;
    mapping(uint256 tokenId => address) private _tokenApprovals;
    mapping(address owner => mapping(address operator => bool)) private _operatorApprovals;
    mapping(uint256 tokenId => bool) private _frozenTokens;
    mapping(uint256 tokenId => bytes32) private _editionContentHashes;
    address private _issuer;
    bytes32 private _contentHash;
    string private _name;
    string private _symbol;
    string private _baseTokenURI;

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
    function initialize(Terms calldata terms, address authority, address initialMinter) external initializer {
        if (terms.maxSupply == 0) revert CollectionZeroSupply();
        if (terms.lockDays < LOCK_FLOOR_DAYS) revert CollectionLockBelowFloor(terms.lockDays, LOCK_FLOOR_DAYS);
        if (terms.regiftDays < terms.lockDays) revert CollectionRegiftBelowLock(terms.regiftDays, terms.lockDays);
        if (terms.contentHash == bytes32(0) || terms.issuer == address(0) || initialMinter == address(0)) {
            revert CollectionInvalidTerms();
        }
        __AccessManaged_init(authority);
        _policy = Policy({
            minter: initialMinter,
            nextTokenId: 1,
            maxSupply: terms.maxSupply,
            lockDays: terms.lockDays,
            regiftDays: terms.regiftDays,
            paused: false
        });
        _name = terms.name;
        _symbol = terms.symbol;
        _issuer = terms.issuer;
        _contentHash = terms.contentHash;
        _baseTokenURI = terms.baseURI;
        emit MinterChanged(address(0), initialMinter);
    }

    // ===== MINTER =====

    /// @inheritdoc ICollection
    function mint(address to, uint256 quantity, uint256 expectedFirstTokenId, uint64 batchId) external {
        Policy memory policy = _policy;
        _checkMint(policy, quantity, expectedFirstTokenId);
        (uint32 holderId, bool verified) = _registry.holderOf(to);
        if (!verified) revert CollectionUnverifiedAccount(to);

        uint256 first = policy.nextTokenId;
        uint256 end = first + quantity;
        _setEntry(first, _entry(holderId, Acquisition.Minted));
        unchecked {
            _balances[to] += quantity;
        }
        _policy.nextTokenId = uint24(end);
        for (uint256 tokenId = first; tokenId < end; ++tokenId) {
            _emitMintTransfer(to, tokenId);
        }
        emit BatchMinted(batchId, first);
    }

    /// @inheritdoc ICollection
    function mintEach(address[] calldata recipients, uint256 expectedFirstTokenId, uint64 batchId) external {
        Policy memory policy = _policy;
        uint256 count = recipients.length;
        _checkMint(policy, count, expectedFirstTokenId);
        uint32[] memory holderIds = _registry.verifiedHolderIds(recipients);

        uint256 first = policy.nextTokenId;
        uint256 timeAndHow = _timeAndHow(Acquisition.Minted);
        // Entries are gathered per slot and each slot is written once.
        uint256 index = first - 1;
        uint256 slot = index / _ENTRIES_PER_SLOT;
        uint256 packed = _ownerEntries[slot];
        for (uint256 i = 0; i < count; ++i) {
            address to = recipients[i];
            uint256 holderId = holderIds[i];
            if (holderId == 0) revert CollectionUnverifiedAccount(to);
            uint256 position = index % _ENTRIES_PER_SLOT;
            packed |= (holderId | timeAndHow) << (position * _ENTRY_BITS);
            if (position == _ENTRIES_PER_SLOT - 1 || i == count - 1) {
                _ownerEntries[slot] = packed;
                ++slot;
                packed = 0;
            }
            unchecked {
                ++_balances[to];
                ++index;
            }
            _emitMintTransfer(to, index);
        }
        _policy.nextTokenId = uint24(first + count);
        emit BatchMinted(batchId, first);
    }

    // ===== ERC-721 =====

    /// @inheritdoc IERC721
    function transferFrom(address from, address to, uint256 tokenId) public {
        _transfer(from, to, tokenId, Acquisition.Gifted);
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        _transfer(from, to, tokenId, Acquisition.Gifted);
        _checkOnERC721Received(from, to, tokenId, data);
    }

    /**
     * @inheritdoc IERC721
     * @dev Only operators the platform allows may be approved; clearing an approval is always possible.
     */
    function approve(address to, uint256 tokenId) external {
        address owner = ownerOf(tokenId);
        if (msg.sender != owner && !_operatorApprovals[owner][msg.sender]) revert ERC721InvalidApprover(msg.sender);
        if (to != address(0)) _checkOperator(to);
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    /**
     * @inheritdoc IERC721
     * @dev Only operators the platform allows may be approved; revoking is always possible.
     */
    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert ERC721InvalidOperator(operator);
        if (approved) _checkOperator(operator);
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    /// @inheritdoc IERC721
    function getApproved(uint256 tokenId) external view returns (address) {
        _requireExists(tokenId);
        return _tokenApprovals[tokenId];
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(owner);
        return _balances[owner];
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 tokenId) public view returns (address) {
        return _registry.accountOf(uint32(_entryOf(tokenId) & _HOLDER_MASK));
    }

    /// @inheritdoc IERC721Metadata
    function name() external view returns (string memory) {
        return _name;
    }

    /// @inheritdoc IERC721Metadata
    function symbol() external view returns (string memory) {
        return _symbol;
    }

    /// @inheritdoc IERC721Metadata
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        _requireExists(tokenId);
        string memory base = _baseTokenURI;
        return bytes(base).length == 0 ? "" : string.concat(base, Strings.toString(tokenId));
    }

    /// @notice How many tokens exist.
    function totalSupply() external view returns (uint256) {
        return _policy.nextTokenId - 1;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IERC721).interfaceId ||
            interfaceId == type(IERC721Metadata).interfaceId ||
            interfaceId == type(IERC5192).interfaceId;
    }

    // ===== COMPLIANCE =====

    /// @inheritdoc ICollection
    function freezeToken(uint256 tokenId, uint32 reasonCode) external restricted {
        _requireExists(tokenId);
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
        _transfer(from, to, tokenId, Acquisition.Recovered);
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

    // ===== GETTERS =====

    /// @inheritdoc ICollection
    function unlocksAt(uint256 tokenId) public view returns (uint256) {
        return _unlocksAt(_entryOf(tokenId), _policy);
    }

    /// @inheritdoc ICollection
    function acquisitionOf(uint256 tokenId) external view returns (Acquisition how, uint256 acquiredAt) {
        uint256 entry = _entryOf(tokenId);
        return (Acquisition(uint8(entry >> _HOW_SHIFT)), (entry >> _TIME_SHIFT) & _TIME_MASK);
    }

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        return block.timestamp < unlocksAt(tokenId) || _frozenTokens[tokenId] || _policy.paused;
    }

    /// @inheritdoc ICollection
    function canTransfer(address from, address to, uint256 tokenId) external view returns (bool) {
        if (tokenId == 0 || tokenId >= _policy.nextTokenId || ownerOf(tokenId) != from) return false;
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
        return uint256(_policy.lockDays) * 1 days;
    }

    /// @inheritdoc ICollection
    function regiftPeriod() external view returns (uint256) {
        return uint256(_policy.regiftDays) * 1 days;
    }

    /// @inheritdoc ICollection
    function nextTokenId() external view returns (uint256) {
        return _policy.nextTokenId;
    }

    /// @inheritdoc ICollection
    function identityRegistry() external view returns (address) {
        return address(_registry);
    }

    // ===== TRANSFER RULES =====

    /// @dev The rules of every mint: the minter, the pause, the exact next token id and the edition size.
    /// The mint functions check each recipient's verification with the registry's holder numbers.
    function _checkMint(Policy memory policy, uint256 quantity, uint256 expectedFirstTokenId) private view {
        if (msg.sender != policy.minter) revert CollectionUnauthorizedMinter(msg.sender);
        if (policy.paused) revert CollectionPausedError();
        if (quantity == 0) revert CollectionEmptyMint();
        uint256 next = policy.nextTokenId;
        if (next != expectedFirstTokenId) revert CollectionUnexpectedFirstToken(expectedFirstTokenId, next);
        uint256 total = next - 1 + quantity;
        if (total > policy.maxSupply) revert CollectionMaxSupplyExceeded(policy.maxSupply, total);
    }

    /**
     * @dev The rules of every transfer. A gift needs: the collection not paused,
     * the token not frozen, the caller the holder or an allowed and approved
     * operator, both parties verified and the lock passed. A forced recovery
     * (`how == Recovered`, reachable only through {forceTransfer}) needs only a
     * verified recipient. Returns the recipient's holder number.
     */
    function _checkTransfer(
        address from,
        address to,
        uint256 tokenId,
        uint256 entry,
        Acquisition how
    ) private view returns (uint32 toHolderId) {
        (uint32 holderId, bool toVerified) = _registry.holderOf(to);
        if (!toVerified) revert CollectionUnverifiedAccount(to);
        if (how == Acquisition.Recovered) return holderId;

        Policy memory policy = _policy;
        if (policy.paused) revert CollectionPausedError();
        if (_frozenTokens[tokenId]) revert CollectionTokenFrozen(tokenId);
        if (msg.sender != from) {
            if (!_operatorApprovals[from][msg.sender] && _tokenApprovals[tokenId] != msg.sender) {
                revert ERC721InsufficientApproval(msg.sender, tokenId);
            }
            _checkOperator(msg.sender);
        }
        if (!_registry.isVerified(from)) revert CollectionUnverifiedAccount(from);
        uint256 unlock = _unlocksAt(entry, policy);
        if (block.timestamp < unlock) revert CollectionTokenLocked(tokenId, unlock);
        return holderId;
    }

    function _checkOperator(address operator) private view {
        if (!_registry.isOperatorAllowed(operator)) revert CollectionOperatorNotAllowed(operator);
    }

    // ===== INTERNAL =====

    /// @dev The one transfer path: checks the rules, then moves `tokenId` and restarts its lock.
    function _transfer(address from, address to, uint256 tokenId, Acquisition how) private {
        uint256 entry = _entryOf(tokenId);
        address owner = _registry.accountOf(uint32(entry & _HOLDER_MASK));
        if (owner != from) revert ERC721IncorrectOwner(from, tokenId, owner);
        uint32 toHolderId = _checkTransfer(from, to, tokenId, entry, how);

        if (_tokenApprovals[tokenId] != address(0)) delete _tokenApprovals[tokenId];
        _setEntry(tokenId, _entry(toHolderId, how));
        // The next token may have shared this entry (a batch mint); it keeps its owner.
        uint256 next = tokenId + 1;
        if (next < _policy.nextTokenId && _rawEntry(next) == 0) _setEntry(next, entry);
        unchecked {
            --_balances[from];
            ++_balances[to];
        }
        emit Transfer(from, to, tokenId);
    }

    function _checkOnERC721Received(address from, address to, uint256 tokenId, bytes memory data) private {
        if (to.code.length == 0) return;
        try IERC721Receiver(to).onERC721Received(msg.sender, from, tokenId, data) returns (bytes4 retval) {
            if (retval != IERC721Receiver.onERC721Received.selector) revert ERC721InvalidReceiver(to);
        } catch (bytes memory reason) {
            if (reason.length == 0) revert ERC721InvalidReceiver(to);
            assembly ("memory-safe") {
                revert(add(32, reason), mload(reason))
            }
        }
    }

    function _requireExists(uint256 tokenId) private view {
        if (tokenId == 0 || tokenId >= _policy.nextTokenId) revert ERC721NonexistentToken(tokenId);
    }

    /// @dev The ownership entry that applies to `tokenId`: its own, or the nearest one before it.
    function _entryOf(uint256 tokenId) private view returns (uint256 entry) {
        _requireExists(tokenId);
        uint256 index = tokenId - 1;
        uint256 slot = index / _ENTRIES_PER_SLOT;
        uint256 position = index % _ENTRIES_PER_SLOT;
        uint256 packed = _ownerEntries[slot];
        // Terminates: the first token of every mint has an entry, and token 1 is the first of the first mint.
        while (true) {
            entry = (packed >> (position * _ENTRY_BITS)) & _ENTRY_MASK;
            if (entry != 0) return entry;
            if (position == 0) {
                --slot;
                packed = _ownerEntries[slot];
                position = _ENTRIES_PER_SLOT - 1;
            } else {
                --position;
            }
        }
    }

    function _rawEntry(uint256 tokenId) private view returns (uint256) {
        uint256 index = tokenId - 1;
        return
            (_ownerEntries[index / _ENTRIES_PER_SLOT] >> ((index % _ENTRIES_PER_SLOT) * _ENTRY_BITS)) & _ENTRY_MASK;
    }

    function _setEntry(uint256 tokenId, uint256 entry) private {
        uint256 index = tokenId - 1;
        uint256 slot = index / _ENTRIES_PER_SLOT;
        uint256 shift = (index % _ENTRIES_PER_SLOT) * _ENTRY_BITS;
        _ownerEntries[slot] = (_ownerEntries[slot] & ~(_ENTRY_MASK << shift)) | (entry << shift);
    }

    function _entry(uint32 holderId, Acquisition how) private view returns (uint256) {
        return uint256(holderId) | _timeAndHow(how);
    }

    function _timeAndHow(Acquisition how) private view returns (uint256) {
        return (block.timestamp << _TIME_SHIFT) | (uint256(uint8(how)) << _HOW_SHIFT);
    }

    /// @dev `emit Transfer(address(0), to, tokenId)` without the memory bookkeeping; it runs once per minted token.
    function _emitMintTransfer(address to, uint256 tokenId) private {
        assembly ("memory-safe") {
            // keccak256("Transfer(address,address,uint256)")
            log4(0, 0, 0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef, 0, to, tokenId)
        }
    }

    function _unlocksAt(uint256 entry, Policy memory policy) private pure returns (uint256) {
        uint256 acquiredAt = (entry >> _TIME_SHIFT) & _TIME_MASK;
        uint256 days_ = uint8(entry >> _HOW_SHIFT) == uint8(Acquisition.Gifted) ? policy.regiftDays : policy.lockDays;
        return acquiredAt + days_ * 1 days;
    }
}
