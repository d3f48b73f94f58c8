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
import {IERC7943NonFungible} from "./interfaces/IERC7943.sol";
import {IIdentityRegistry} from "./interfaces/IIdentityRegistry.sol";

/**
 * @title Collection
 * @notice One artwork series as an ERC-721 token. See {ICollection}. Implements ERC-7943 (uRWA,
 * non-fungible) and ERC-5192 in form.
 * @dev Deployed once as an implementation and cloned by the {CollectionFactory}.
 * The identity registry is an immutable of the implementation, so every clone
 * checks the platform's registry and none can be pointed elsewhere.
 *
 * Storage is shaped for flash-sale delivery. A token's owner is stored as an
 * 80-bit entry (registry holder number, acquisition time, how it was acquired,
 * and the token's freeze, approval, shared and burned flags), three entries to a
 * slot, so minting to many new holders writes a third of the ownership slots a
 * plain ERC-721 writes. As in ERC721A, a mint of several tokens to one holder
 * writes only the first token's entry; a zero entry means "same owner as the
 * token before". The acquisition time in the entry drives the lock and the
 * freeze flag the token freeze, so neither costs storage of its own.
 *
 * Bounded lookups: {mint} gives at most {MAX_MINT_QUANTITY} (100) tokens per call and every
 * call writes its first token's entry, so the entry of any token is at most 99 tokens back:
 * `ownerOf` and every transfer read at most 34 ownership slots whatever the history.
 *
 * A holder number belongs to one address, and an address to one identity, for ever (the
 * registry refuses to rebind an address to another identity), so no token changes owner
 * without a `Transfer` event.
 *
 * Every rule sits in one section, TRANSFER RULES: {_checkMint} for mints and
 * {_transfer} for every holder path (`transferFrom`, both `safeTransferFrom`, approved
 * operators); {_forcedTransfer} is the compliance role's only path around them.
 */
contract Collection is
    Initializable,
    AccessManagedUpgradeable,
    IERC721Metadata,
    IERC721Errors,
    ICollection,
    IERC5192,
    IERC7943NonFungible
{
    /// @notice The lowest lock any collection may have, in days, whatever the issuer asks.
    uint256 public constant LOCK_FLOOR_DAYS = 180;

    /// @notice The most tokens {mint} gives one holder per call (bounds every ownership lookup).
    uint256 public constant MAX_MINT_QUANTITY = 100;

    /// @notice The largest edition size: token ids run to `maxSupply` and the next id must fit in 24 bits.
    uint256 public constant MAX_SUPPLY = type(uint24).max - 1;

    /// @notice The reason code of compliance actions taken through ERC-7943's reasonless functions.
    uint32 public constant REASON_UNSPECIFIED = 0;

    uint256 private constant _ENTRY_BITS = 80;
    uint256 private constant _ENTRIES_PER_SLOT = 3;
    uint256 private constant _ENTRY_MASK = (1 << _ENTRY_BITS) - 1;
    uint256 private constant _HOLDER_MASK = (1 << 32) - 1;
    uint256 private constant _TIME_SHIFT = 32;
    uint256 private constant _TIME_MASK = (1 << 40) - 1;
    uint256 private constant _KIND_SHIFT = 72;
    uint256 private constant _KIND_BITS = 3 << _KIND_SHIFT;
    /// @dev The token is frozen (for its holder).
    uint256 private constant _FROZEN = 1 << 74;
    /// @dev `_tokenApprovals` may hold an approval for the token: a transfer clears it.
    uint256 private constant _APPROVED = 1 << 75;
    /// @dev The next token may have no entry of its own and share this one (several tokens minted at once).
    uint256 private constant _SHARED = 1 << 76;
    /// @dev The token was taken down.
    uint256 private constant _BURNED = 1 << 77;
    /// @dev What a token with no entry of its own takes from the entry before it.
    uint256 private constant _INHERITED = _HOLDER_MASK | (_TIME_MASK << _TIME_SHIFT) | _KIND_BITS | _SHARED;

    uint8 private constant _PAUSED = 1;
    uint8 private constant _PENDING_FREEZES = 2;
    uint8 private constant _TAKEN_DOWN = 4;

    // keccak256("Transfer(address,address,uint256)")
    uint256 private constant _TRANSFER_EVENT = 0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef;
    // keccak256("Locked(uint256)")
    uint256 private constant _LOCKED_EVENT = 0x032bc66be43dbccb7487781d168eb7bda224628a3b2c3388bdf69b532a3a1611;

    /// @dev Everything a mint or a transfer reads about the collection, in one slot.
    struct Policy {
        address minter;
        uint24 nextTokenId;
        uint24 maxSupply;
        uint16 lockDays;
        uint16 regiftDays;
        uint8 flags;
    }

    IIdentityRegistry private immutable _registry;

    Policy private _policy;
    mapping(uint256 slot => uint256) private _ownerEntries;
    mapping(address owner => uint256) private _balances;
    mapping(uint256 tokenId => address) private _tokenApprovals;
    mapping(address owner => mapping(address operator => bool)) private _operatorApprovals;
    /// @dev ERC-7943 freezes of tokens for accounts that do not hold them (yet); applied when the token arrives.
    mapping(address account => mapping(uint256 tokenId => bool)) private _pendingFreezes;
    mapping(uint256 tokenId => bytes32) private _editionContentHashes;
    uint256 private _burnedCount;
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
        if (terms.maxSupply > MAX_SUPPLY) revert CollectionSupplyTooLarge(terms.maxSupply, MAX_SUPPLY);
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
            flags: 0
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
        if (quantity > MAX_MINT_QUANTITY) revert CollectionMintTooLarge(quantity, MAX_MINT_QUANTITY);
        Policy memory policy = _policy;
        _checkMint(policy, quantity, expectedFirstTokenId);
        (uint32 holderId, bool verified) = _registry.holderOf(to);
        if (!verified) revert CollectionUnverifiedAccount(to);

        uint256 first = policy.nextTokenId;
        uint256 end = first + quantity;
        _setEntry(first, _entry(holderId, Acquisition.Minted) | (quantity > 1 ? _SHARED : 0));
        unchecked {
            _balances[to] += quantity;
        }
        _policy.nextTokenId = uint24(end);
        for (uint256 tokenId = first; tokenId < end; ++tokenId) {
            _emitMinted(to, tokenId);
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
            _emitMinted(to, index);
        }
        _policy.nextTokenId = uint24(first + count);
        emit BatchMinted(batchId, first);
    }

    // ===== ERC-721 =====

    /// @inheritdoc IERC721
    function transferFrom(address from, address to, uint256 tokenId) public {
        _transfer(from, to, tokenId);
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        _transfer(from, to, tokenId);
        _checkOnERC721Received(from, to, tokenId, data);
    }

    /**
     * @inheritdoc IERC721
     * @dev Only operators the platform allows may be approved; clearing an approval is always possible.
     */
    function approve(address to, uint256 tokenId) external {
        Policy memory policy = _policy;
        uint256 entry = _entryOf(tokenId, policy);
        address owner = _accountOf(entry);
        if (msg.sender != owner && !_operatorApprovals[owner][msg.sender]) revert ERC721InvalidApprover(msg.sender);
        if (to != address(0)) {
            _checkOperator(to);
            if (entry & _APPROVED == 0) _store(tokenId, entry, entry | _APPROVED, policy);
        }
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
        _entryOf(tokenId, _policy);
        return _tokenApprovals[tokenId];
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(owner);
        if (_policy.flags & _TAKEN_DOWN != 0) return 0;
        return _balances[owner];
    }

    /**
     * @inheritdoc IERC721
     * @dev Reads at most 34 ownership slots (see {MAX_MINT_QUANTITY}) and one registry slot.
     */
    function ownerOf(uint256 tokenId) public view returns (address) {
        return _accountOf(_entryOf(tokenId, _policy));
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
        _entryOf(tokenId, _policy);
        string memory base = _baseTokenURI;
        return bytes(base).length == 0 ? "" : string.concat(base, Strings.toString(tokenId));
    }

    /// @notice How many tokens exist (minted and not taken down).
    function totalSupply() external view returns (uint256) {
        Policy memory policy = _policy;
        if (policy.flags & _TAKEN_DOWN != 0) return 0;
        return policy.nextTokenId - 1 - _burnedCount;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IERC721).interfaceId ||
            interfaceId == type(IERC721Metadata).interfaceId ||
            interfaceId == type(IERC5192).interfaceId ||
            interfaceId == type(IERC7943NonFungible).interfaceId;
    }

    // ===== COMPLIANCE =====

    /// @inheritdoc ICollection
    function freezeToken(uint256 tokenId, uint32 reasonCode) external restricted {
        Policy memory policy = _policy;
        uint256 entry = _entryOf(tokenId, policy);
        if (entry & _FROZEN != 0) revert CollectionTokenFrozen(tokenId);
        _setFrozen(tokenId, entry, true, reasonCode, policy);
    }

    /// @inheritdoc ICollection
    function unfreezeToken(uint256 tokenId, uint32 reasonCode) external restricted {
        Policy memory policy = _policy;
        uint256 entry = _entryOf(tokenId, policy);
        if (entry & _FROZEN == 0) revert CollectionTokenNotFrozen(tokenId);
        _setFrozen(tokenId, entry, false, reasonCode, policy);
    }

    /**
     * @inheritdoc IERC7943NonFungible
     * @dev Overwrites the status (no revert when unchanged). For the token's holder it is the token
     * freeze of {freezeToken}; for any other account it is kept and applied when the token reaches that
     * account (so more can be frozen than is held). Requires the compliance role and an existing token.
     * Emits `Frozen` (and {TokenFrozen} / {TokenUnfrozen} with {REASON_UNSPECIFIED} when the holder's status changes).
     */
    function setFrozenTokens(address account, uint256 tokenId, bool frozenStatus) external restricted returns (bool) {
        Policy memory policy = _policy;
        uint256 entry = _entryOf(tokenId, policy);
        if (_accountOf(entry) == account) {
            if ((entry & _FROZEN != 0) != frozenStatus) {
                _setFrozen(tokenId, entry, frozenStatus, REASON_UNSPECIFIED, policy);
            } else {
                emit Frozen(account, tokenId, frozenStatus);
            }
        } else {
            _pendingFreezes[account][tokenId] = frozenStatus;
            if (frozenStatus && policy.flags & _PENDING_FREEZES == 0) _policy.flags = policy.flags | _PENDING_FREEZES;
            emit Frozen(account, tokenId, frozenStatus);
        }
        return true;
    }

    /// @inheritdoc ICollection
    function pause(uint32 reasonCode) external restricted {
        uint8 flags = _policy.flags;
        if (flags & _PAUSED != 0) revert CollectionPausedError();
        _policy.flags = flags | _PAUSED;
        emit CollectionPaused(reasonCode);
    }

    /// @inheritdoc ICollection
    function unpause(uint32 reasonCode) external restricted {
        uint8 flags = _policy.flags;
        if (flags & _PAUSED == 0) revert CollectionNotPaused();
        _policy.flags = flags & ~_PAUSED;
        emit CollectionUnpaused(reasonCode);
    }

    /// @inheritdoc ICollection
    function forceTransfer(uint256 tokenId, address to, uint32 reasonCode) external restricted {
        _forcedTransfer(ownerOf(tokenId), to, tokenId, reasonCode);
    }

    /**
     * @inheritdoc IERC7943NonFungible
     * @dev {forceTransfer} with `from` checked and {REASON_UNSPECIFIED}; same lock rules. Requires the compliance role.
     */
    function forcedTransfer(address from, address to, uint256 tokenId) external restricted returns (bool) {
        _forcedTransfer(from, to, tokenId, REASON_UNSPECIFIED);
        return true;
    }

    /// @inheritdoc ICollection
    function takedown(uint256 tokenId, uint32 reasonCode) external restricted {
        Policy memory policy = _policy;
        uint256 entry = _entryOf(tokenId, policy);
        address owner = _accountOf(entry);
        if (entry & _FROZEN != 0) {
            emit Frozen(owner, tokenId, false);
            emit TokenUnfrozen(tokenId, reasonCode);
        }
        if (entry & _APPROVED != 0) delete _tokenApprovals[tokenId];
        _store(tokenId, entry, (entry & _HOLDER_MASK) | _BURNED, policy);
        unchecked {
            --_balances[owner];
            ++_burnedCount;
        }
        emit Transfer(owner, address(0), tokenId);
        emit TokenTakenDown(tokenId, reasonCode);
    }

    /// @inheritdoc ICollection
    function takedownCollection(uint32 reasonCode) external restricted {
        Policy memory policy = _policy;
        if (policy.flags & _TAKEN_DOWN != 0) revert CollectionTakenDownError();
        _policy.flags = policy.flags | _TAKEN_DOWN;
        emit CollectionTakenDown(reasonCode, policy.nextTokenId - 1);
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

    /**
     * @inheritdoc ICollection
     * @dev ERC-5192's time-based unlock: `locked(tokenId)` turns false at this time without any event.
     */
    function unlocksAt(uint256 tokenId) public view returns (uint256) {
        Policy memory policy = _policy;
        return _unlocksAt(_entryOf(tokenId, policy), policy);
    }

    /// @inheritdoc ICollection
    function acquisitionOf(uint256 tokenId) external view returns (Acquisition how, uint256 acquiredAt) {
        uint256 entry = _entryOf(tokenId, _policy);
        return (Acquisition((entry & _KIND_BITS) >> _KIND_SHIFT), (entry >> _TIME_SHIFT) & _TIME_MASK);
    }

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        Policy memory policy = _policy;
        uint256 entry = _entryOf(tokenId, policy);
        return block.timestamp < _unlocksAt(entry, policy) || entry & _FROZEN != 0 || policy.flags & _PAUSED != 0;
    }

    /**
     * @inheritdoc IERC7943NonFungible
     * @dev False when the collection is paused or taken down, the token does not exist, is frozen
     * or is still locked, or `from` cannot send or `to` cannot receive. Ownership of `tokenId` by
     * `from` is the base standard's check and, as ERC-7943 requires, not part of this answer.
     */
    function canTransfer(address from, address to, uint256 tokenId) external view returns (bool) {
        Policy memory policy = _policy;
        if (policy.flags & (_PAUSED | _TAKEN_DOWN) != 0 || !_exists(tokenId, policy)) return false;
        uint256 entry = _entryOf(tokenId, policy);
        if (entry & _FROZEN != 0 || block.timestamp < _unlocksAt(entry, policy)) return false;
        if (policy.flags & _PENDING_FREEZES != 0 && _pendingFreezes[to][tokenId]) return false;
        (, bool fromVerified, , bool toVerified) = _registry.partiesOf(from, to);
        return fromVerified && toVerified;
    }

    /// @inheritdoc IERC7943NonFungible
    function canSend(address account) external view returns (bool) {
        return _registry.isVerified(account);
    }

    /// @inheritdoc IERC7943NonFungible
    function canReceive(address account) external view returns (bool) {
        return _registry.isVerified(account);
    }

    /// @inheritdoc IERC7943NonFungible
    function getFrozenTokens(address account, uint256 tokenId) external view returns (bool) {
        Policy memory policy = _policy;
        if (_exists(tokenId, policy)) {
            uint256 entry = _entryOf(tokenId, policy);
            if (_accountOf(entry) == account) return entry & _FROZEN != 0;
        }
        return _pendingFreezes[account][tokenId];
    }

    /// @inheritdoc ICollection
    function canTransact(address account) external view returns (bool) {
        return _registry.isVerified(account);
    }

    /// @inheritdoc ICollection
    function isTokenFrozen(uint256 tokenId) external view returns (bool) {
        return _entryOf(tokenId, _policy) & _FROZEN != 0;
    }

    /// @inheritdoc ICollection
    function paused() external view returns (bool) {
        return _policy.flags & _PAUSED != 0;
    }

    /// @inheritdoc ICollection
    function takenDown() external view returns (bool) {
        return _policy.flags & _TAKEN_DOWN != 0;
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

    /// @dev The rules of every mint: the minter, the pause, the takedown, the exact next token id and the
    /// edition size. The mint functions check each recipient's verification with the registry's holder numbers.
    function _checkMint(Policy memory policy, uint256 quantity, uint256 expectedFirstTokenId) private view {
        if (msg.sender != policy.minter) revert CollectionUnauthorizedMinter(msg.sender);
        if (policy.flags & _TAKEN_DOWN != 0) revert CollectionTakenDownError();
        if (policy.flags & _PAUSED != 0) revert CollectionPausedError();
        if (quantity == 0) revert CollectionEmptyMint();
        uint256 next = policy.nextTokenId;
        if (next != expectedFirstTokenId) revert CollectionUnexpectedFirstToken(expectedFirstTokenId, next);
        uint256 total = next - 1 + quantity;
        if (total > policy.maxSupply) revert CollectionMaxSupplyExceeded(policy.maxSupply, total);
    }

    /**
     * @dev Every holder path: the collection not paused, the token existing, held by `from`
     * and not frozen, the caller the holder or an allowed and approved operator, `from` able to
     * send and `to` able to receive (verified, neither the address nor its identity frozen),
     * and the lock passed. The recipient's lock starts now with {regiftPeriod}: never shorter than
     * the one before, since that one started no later and lasted no longer.
     */
    function _transfer(address from, address to, uint256 tokenId) private {
        Policy memory policy = _policy;
        uint256 entry = _entryOf(tokenId, policy);
        (uint256 fromHolderId, bool fromVerified, uint256 toHolderId, bool toVerified) = _partiesOf(from, to);
        // Holder numbers and addresses correspond one to one, so equal numbers mean `from` holds it.
        if (entry & _HOLDER_MASK != fromHolderId) revert ERC721IncorrectOwner(from, tokenId, _accountOf(entry));
        if (policy.flags & _PAUSED != 0) revert CollectionPausedError();
        if (entry & _FROZEN != 0) revert ERC7943InsufficientUnfrozenBalance(from, tokenId);
        if (msg.sender != from) {
            if (
                !_operatorApprovals[from][msg.sender] &&
                (entry & _APPROVED == 0 || _tokenApprovals[tokenId] != msg.sender)
            ) {
                revert ERC721InsufficientApproval(msg.sender, tokenId);
            }
            _checkOperator(msg.sender);
        }
        if (!fromVerified) revert ERC7943CannotSend(from);
        if (!toVerified) revert ERC7943CannotReceive(to);
        uint256 unlock = _unlocksAt(entry, policy);
        if (block.timestamp < unlock) revert CollectionTokenLocked(tokenId, unlock);

        uint256 updated = toHolderId | _timeAndHow(Acquisition.Gifted) | _arrivalFreeze(to, tokenId, policy);
        if (entry & _APPROVED != 0) delete _tokenApprovals[tokenId];
        _store(tokenId, entry, updated, policy);
        unchecked {
            --_balances[from];
            ++_balances[to];
        }
        _emitMoved(from, to, tokenId);
    }

    /**
     * @dev The compliance role's path: skips the lock, the freeze, the pause and the sender's
     * verification; the recipient must be able to receive. See {ICollection-forceTransfer} for the lock.
     */
    function _forcedTransfer(address from, address to, uint256 tokenId, uint32 reasonCode) private {
        Policy memory policy = _policy;
        uint256 entry = _entryOf(tokenId, policy);
        address owner = _accountOf(entry);
        if (owner != from) revert ERC721IncorrectOwner(from, tokenId, owner);
        (uint32 toHolderId, bool toVerified) = _registry.holderOf(to);
        if (!toVerified) revert ERC7943CannotReceive(to);
        bool sameIdentity = _registry.identityOf(from) == _registry.identityOf(to);

        if (entry & _FROZEN != 0) {
            // ERC-7943: unfreeze first, and say so before the Transfer event.
            emit Frozen(from, tokenId, false);
            emit TokenUnfrozen(tokenId, reasonCode);
        }
        uint256 kept = sameIdentity
            ? entry & ((_TIME_MASK << _TIME_SHIFT) | _KIND_BITS)
            : _timeAndHow(Acquisition.Recovered);
        uint256 updated = toHolderId | kept | _arrivalFreeze(to, tokenId, policy);
        if (entry & _APPROVED != 0) delete _tokenApprovals[tokenId];
        _store(tokenId, entry, updated, policy);
        unchecked {
            --_balances[from];
            ++_balances[to];
        }
        emit Transfer(from, to, tokenId);
        if (block.timestamp < _unlocksAt(updated, policy)) _emitLocked(tokenId);
        emit ForcedTransfer(from, to, tokenId);
        emit ForcedTransferReason(tokenId, reasonCode, sameIdentity);
    }

    /**
     * @dev {IIdentityRegistry-partiesOf} without the ABI coder's re-encoding and range checks: the registry is
     * the platform's own (an immutable of the implementation) and answers four words. Runs on every transfer.
     */
    function _partiesOf(
        address from,
        address to
    ) private view returns (uint256 fromHolderId, bool fromVerified, uint256 toHolderId, bool toVerified) {
        IIdentityRegistry registry = _registry;
        bytes4 selector = IIdentityRegistry.partiesOf.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), from)
            mstore(add(m, 0x24), to)
            let ok := staticcall(gas(), registry, m, 0x44, m, 0x80)
            if iszero(and(ok, gt(returndatasize(), 0x7f))) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
            fromHolderId := mload(m)
            fromVerified := mload(add(m, 0x20))
            toHolderId := mload(add(m, 0x40))
            toVerified := mload(add(m, 0x60))
        }
    }

    function _checkOperator(address operator) private view {
        if (!_registry.isOperatorAllowed(operator)) revert CollectionOperatorNotAllowed(operator);
    }

    // ===== INTERNAL =====

    /// @dev A pending ERC-7943 freeze of `tokenId` for `to` takes effect as the token arrives.
    function _arrivalFreeze(address to, uint256 tokenId, Policy memory policy) private returns (uint256) {
        if (policy.flags & _PENDING_FREEZES == 0 || !_pendingFreezes[to][tokenId]) return 0;
        delete _pendingFreezes[to][tokenId];
        return _FROZEN;
    }

    function _setFrozen(uint256 tokenId, uint256 entry, bool frozen, uint32 reasonCode, Policy memory policy) private {
        _store(tokenId, entry, frozen ? entry | _FROZEN : entry & ~_FROZEN, policy);
        emit Frozen(_accountOf(entry), tokenId, frozen);
        if (frozen) emit TokenFrozen(tokenId, reasonCode);
        else emit TokenUnfrozen(tokenId, reasonCode);
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

    function _accountOf(uint256 entry) private view returns (address) {
        return _registry.accountOf(uint32(entry & _HOLDER_MASK));
    }

    function _exists(uint256 tokenId, Policy memory policy) private view returns (bool) {
        if (tokenId == 0 || tokenId >= policy.nextTokenId || policy.flags & _TAKEN_DOWN != 0) return false;
        uint256 raw = _rawEntry(tokenId);
        return raw == 0 || raw & _BURNED == 0;
    }

    /**
     * @dev The ownership entry that applies to `tokenId`: its own, or the nearest one before it.
     * Reverts for a token that was never minted, was taken down, or whose collection was.
     * The scan ends within {MAX_MINT_QUANTITY} - 1 tokens: every mint writes its first token's entry.
     */
    function _entryOf(uint256 tokenId, Policy memory policy) private view returns (uint256 entry) {
        if (tokenId == 0 || tokenId >= policy.nextTokenId || policy.flags & _TAKEN_DOWN != 0) {
            revert ERC721NonexistentToken(tokenId);
        }
        uint256 index = tokenId - 1;
        uint256 slot = index / _ENTRIES_PER_SLOT;
        uint256 position = index % _ENTRIES_PER_SLOT;
        uint256 packed = _ownerEntries[slot];
        entry = (packed >> (position * _ENTRY_BITS)) & _ENTRY_MASK;
        if (entry != 0) {
            if (entry & _BURNED != 0) revert ERC721NonexistentToken(tokenId);
            return entry;
        }
        // An inherited entry is never a burned one: a takedown gives the next token its own entry first.
        // Terminates: the first token of every mint has an entry, and token 1 is the first of the first mint.
        unchecked {
            while (true) {
                if (packed != 0) {
                    while (position != 0) {
                        --position;
                        entry = (packed >> (position * _ENTRY_BITS)) & _ENTRY_MASK;
                        if (entry != 0) return entry;
                    }
                }
                --slot;
                packed = _ownerEntries[slot];
                position = _ENTRIES_PER_SLOT;
            }
        }
    }

    function _rawEntry(uint256 tokenId) private view returns (uint256) {
        uint256 index = tokenId - 1;
        return
            (_ownerEntries[index / _ENTRIES_PER_SLOT] >> ((index % _ENTRIES_PER_SLOT) * _ENTRY_BITS)) & _ENTRY_MASK;
    }

    /**
     * @dev Gives `tokenId` its own entry `updated` (its current one being `current`). When the next
     * token may share `current` (several tokens minted at once), it gets that entry of its own first,
     * so that it keeps its owner and lock, and no flag of `tokenId` is ever inherited.
     */
    function _store(uint256 tokenId, uint256 current, uint256 updated, Policy memory policy) private {
        if (current & _SHARED != 0) {
            uint256 next = tokenId + 1;
            if (next < policy.nextTokenId && _rawEntry(next) == 0) _setEntry(next, current & _INHERITED);
        }
        _setEntry(tokenId, updated & ~_SHARED);
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
        return (block.timestamp << _TIME_SHIFT) | (uint256(uint8(how)) << _KIND_SHIFT);
    }

    /// @dev `Transfer(address(0), to, tokenId)` and ERC-5192 `Locked(tokenId)` (a minted token is always
    /// locked) without the memory bookkeeping; it runs once per minted token.
    function _emitMinted(address to, uint256 tokenId) private {
        assembly ("memory-safe") {
            log4(0, 0, _TRANSFER_EVENT, 0, to, tokenId)
            mstore(0, tokenId)
            log1(0, 0x20, _LOCKED_EVENT)
        }
    }

    /// @dev `Transfer(from, to, tokenId)` and `Locked(tokenId)`: a gift always starts a lock.
    function _emitMoved(address from, address to, uint256 tokenId) private {
        assembly ("memory-safe") {
            log4(0, 0, _TRANSFER_EVENT, from, to, tokenId)
            mstore(0, tokenId)
            log1(0, 0x20, _LOCKED_EVENT)
        }
    }

    function _emitLocked(uint256 tokenId) private {
        assembly ("memory-safe") {
            mstore(0, tokenId)
            log1(0, 0x20, _LOCKED_EVENT)
        }
    }

    function _unlocksAt(uint256 entry, Policy memory policy) private pure returns (uint256) {
        uint256 acquiredAt = (entry >> _TIME_SHIFT) & _TIME_MASK;
        uint256 days_ = entry & _KIND_BITS == 0 ? policy.lockDays : policy.regiftDays;
        return acquiredAt + days_ * 1 days;
    }
}
