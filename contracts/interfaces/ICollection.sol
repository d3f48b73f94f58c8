// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title A compliant digital-collectible series
 * @notice ERC-721 tokens that only verified people may hold. Every token is
 * locked after each acquisition: for {lockPeriod} after a mint, for {regiftPeriod}
 * after a gift or a forced transfer to another person. A forced recovery to another
 * address of the same person keeps the token's acquisition and lock. No path ever
 * shortens a lock. Lock periods are whole days. Approvals are limited to
 * operators the platform allows, so there is no secondary market.
 */
interface ICollection {
    /// @notice The terms a collection is created with; fixed for its life except the minter.
    struct Terms {
        string name;
        string symbol;
        address issuer;
        uint24 maxSupply;
        uint16 lockDays;
        uint16 regiftDays;
        bytes32 contentHash;
        string baseURI;
    }

    /// @notice How a holder acquired a token; it selects the lock that applies:
    /// {lockPeriod} after `Minted`, {regiftPeriod} after `Gifted` and `Recovered`
    /// (a forced transfer to another person). A recovery to the same person keeps the earlier one.
    enum Acquisition {
        Minted,
        Gifted,
        Recovered
    }

    // ===== EVENTS =====

    /// @notice The platform's mint batch `batchId` minted the tokens of this transaction's
    /// {Transfer} events, from `firstTokenId` on, in order.
    /// @dev The quantity is left out on purpose: it is the count of those events, and each
    /// data word costs every mint 256 gas.
    event BatchMinted(uint64 indexed batchId, uint256 firstTokenId);

    /// @notice `tokenId` was frozen for `reasonCode`.
    event TokenFrozen(uint256 indexed tokenId, uint32 reasonCode);

    /// @notice `tokenId` was unfrozen for `reasonCode`.
    event TokenUnfrozen(uint256 indexed tokenId, uint32 reasonCode);

    /// @notice All transfers and mints were stopped for `reasonCode`.
    event CollectionPaused(uint32 reasonCode);

    /// @notice Transfers and mints resumed for `reasonCode`.
    event CollectionUnpaused(uint32 reasonCode);

    /// @notice The compliance role force-transferred `tokenId` (alongside ERC-7943's `ForcedTransfer`) for
    /// `reasonCode`; `sameIdentity` when the recipient is the same person (a recovery: the lock is kept).
    event ForcedTransferReason(uint256 indexed tokenId, uint32 reasonCode, bool sameIdentity);

    /// @notice Regulator-ordered removal: `tokenId` was burned for `reasonCode`.
    event TokenTakenDown(uint256 indexed tokenId, uint32 reasonCode);

    /// @notice Regulator-ordered removal of the whole collection for `reasonCode`: every token from 1 to
    /// `lastTokenId` that still existed is burned, and nothing can be minted or moved any more.
    /// @dev No per-token `Transfer` is emitted (it would be unbounded); indexers treat this event as the
    /// burn of every remaining token.
    event CollectionTakenDown(uint32 reasonCode, uint256 lastTokenId);

    /// @notice The account allowed to mint changed.
    event MinterChanged(address indexed previousMinter, address indexed newMinter);

    /// @notice Edition `tokenId` has its own media, hashed as `contentHash`.
    event EditionContentHashSet(uint256 indexed tokenId, bytes32 contentHash);

    // ===== ERRORS =====

    /**
     * @notice Only the collection's minter may mint.
     * @param caller The account that tried.
     */
    error CollectionUnauthorizedMinter(address caller);

    /**
     * @notice The batch expected another first token id: it was already minted, or another batch came first.
     * @param expected The first token id the caller expected.
     * @param actual The next token id of the collection.
     */
    error CollectionUnexpectedFirstToken(uint256 expected, uint256 actual);

    /**
     * @notice The mint would pass the edition size.
     * @param maxSupply The edition size.
     * @param requestedTotal The total supply the mint would reach.
     */
    error CollectionMaxSupplyExceeded(uint256 maxSupply, uint256 requestedTotal);

    /**
     * @notice A mint of nothing.
     */
    error CollectionEmptyMint();

    /**
     * @notice {mint} gives at most {MAX_MINT_QUANTITY} tokens to one holder per call (it bounds
     * the ownership lookup of every token, see `ownerOf`).
     * @param quantity The quantity asked for.
     * @param max The largest quantity per call.
     */
    error CollectionMintTooLarge(uint256 quantity, uint256 max);

    /**
     * @notice An edition size the token-id counter cannot hold (the next id after the last token must fit in 24 bits).
     * @param maxSupply The edition size given.
     * @param max The largest edition size.
     */
    error CollectionSupplyTooLarge(uint256 maxSupply, uint256 max);

    /**
     * @notice The collection was taken down: nothing can be minted or moved.
     */
    error CollectionTakenDownError();

    /**
     * @notice `account` is not verified in the identity registry (never bound, expired, revoked or frozen).
     * @param account The sender or recipient.
     */
    error CollectionUnverifiedAccount(address account);

    /**
     * @notice `tokenId` is still locked.
     * @param tokenId The token.
     * @param unlocksAt When it may move.
     */
    error CollectionTokenLocked(uint256 tokenId, uint256 unlocksAt);

    /**
     * @notice `tokenId` is already frozen (a holder's transfer of a frozen token reverts with
     * ERC-7943's `ERC7943InsufficientUnfrozenBalance`).
     * @param tokenId The token.
     */
    error CollectionTokenFrozen(uint256 tokenId);

    /**
     * @notice `tokenId` is not frozen.
     * @param tokenId The token.
     */
    error CollectionTokenNotFrozen(uint256 tokenId);

    /**
     * @notice The collection is paused.
     */
    error CollectionPausedError();

    /**
     * @notice The collection is not paused.
     */
    error CollectionNotPaused();

    /**
     * @notice `operator` is not an operator the platform allows.
     * @param operator The would-be operator.
     */
    error CollectionOperatorNotAllowed(address operator);

    /**
     * @notice The lock period is below the 180-day floor.
     * @param lockDays The lock given, in days.
     * @param floorDays The lowest lock allowed, in days.
     */
    error CollectionLockBelowFloor(uint256 lockDays, uint256 floorDays);

    /**
     * @notice The re-gift period is shorter than the lock period.
     * @param regiftDays The re-gift lock given, in days.
     * @param lockDays The lock period, in days.
     */
    error CollectionRegiftBelowLock(uint256 regiftDays, uint256 lockDays);

    /**
     * @notice An edition size of zero.
     */
    error CollectionZeroSupply();

    /**
     * @notice A content hash of zero, or an issuer or minter of address zero.
     */
    error CollectionInvalidTerms();

    /**
     * @notice Edition `tokenId` already has its own content hash; media never changes after it is set.
     * @param tokenId The edition.
     */
    error CollectionContentHashAlreadySet(uint256 tokenId);

    /**
     * @notice Parallel arrays differ in length.
     */
    error CollectionLengthMismatch();

    /**
     * @notice The edition does not exist within the edition size.
     * @param tokenId The token id.
     */
    error CollectionNonexistentEdition(uint256 tokenId);

    // ===== MINTER =====

    /**
     * @notice Mints `quantity` editions to `to` (issuer pre-mint, airdrop, multi-edition order).
     * @dev `expectedFirstTokenId` makes a mint impossible to apply twice: a resent
     * batch finds the next token id moved on and reverts. The platform derives
     * each job's token ids from it.
     *
     * Requirements:
     * - caller is the collection's minter; the collection is not paused or taken down;
     * - `to` is verified; the edition size is not passed;
     * - `quantity` is at most {MAX_MINT_QUANTITY}.
     *
     * Emits one {Transfer} and one ERC-5192 `Locked` per token and a {BatchMinted} event.
     */
    function mint(address to, uint256 quantity, uint256 expectedFirstTokenId, uint64 batchId) external;

    /**
     * @notice Mints one edition to each of `recipients`, in order (flash-sale delivery).
     * @dev Same requirements as {mint}, for every recipient.
     */
    function mintEach(address[] calldata recipients, uint256 expectedFirstTokenId, uint64 batchId) external;

    // ===== COMPLIANCE =====

    /**
     * @notice Freezes `tokenId`: it cannot be transferred, except by a forced transfer (which unfreezes it first).
     * Emits a {TokenFrozen} and ERC-7943's `Frozen` event.
     */
    function freezeToken(uint256 tokenId, uint32 reasonCode) external;

    /// @notice Lifts the freeze of `tokenId`. Emits a {TokenUnfrozen} and ERC-7943's `Frozen` event.
    function unfreezeToken(uint256 tokenId, uint32 reasonCode) external;

    /// @notice Stops every mint and transfer but {forceTransfer}. Emits a {CollectionPaused} event.
    function pause(uint32 reasonCode) external;

    /// @notice Resumes mints and transfers. Emits a {CollectionUnpaused} event.
    function unpause(uint32 reasonCode) external;

    /**
     * @notice Moves `tokenId` to `to` under a judicial order or a lost-account recovery.
     * @dev The only path that skips the lock, the freeze, the pause and the sender's
     * verification; the recipient must still be verified. A frozen token is unfrozen
     * first (ERC-7943 `Frozen(from, tokenId, false)` before the `Transfer`). Locks never shorten:
     * - to an address of the same identity (a recovery, or `to == from`): the token keeps its
     *   acquisition time and kind, hence exactly its lock;
     * - to another person: `Recovered` now, locked for {regiftPeriod} (at least what remained,
     *   since the re-gift period is the longest lock).
     *
     * Emits `Transfer`, ERC-7943 `ForcedTransfer`, {ForcedTransferReason} and, while locked, ERC-5192 `Locked`.
     */
    function forceTransfer(uint256 tokenId, address to, uint32 reasonCode) external;

    /**
     * @notice Regulator-ordered removal of one token: burns it for `reasonCode`, whatever its lock,
     * freeze or the pause (a frozen token is unfrozen first, with ERC-7943's `Frozen`).
     * Emits `Transfer(owner, 0, tokenId)` and {TokenTakenDown}.
     */
    function takedown(uint256 tokenId, uint32 reasonCode) external;

    /**
     * @notice Regulator-ordered removal of the whole collection: every token ceases to exist
     * (`ownerOf` reverts, balances read 0) and nothing can be minted or moved again. Irreversible.
     * Emits {CollectionTakenDown}.
     */
    function takedownCollection(uint32 reasonCode) external;

    // ===== PLATFORM =====

    /// @notice Hands minting to `newMinter`. Emits a {MinterChanged} event.
    function setMinter(address newMinter) external;

    /// @notice Records per-edition media hashes, once per edition. Emits {EditionContentHashSet} events.
    function setEditionContentHashes(uint256[] calldata tokenIds, bytes32[] calldata contentHashes) external;

    // ===== GETTERS =====

    /// @notice When `tokenId` may next be transferred by its holder.
    function unlocksAt(uint256 tokenId) external view returns (uint256);

    /// @notice How the current holder acquired `tokenId`, and when.
    function acquisitionOf(uint256 tokenId) external view returns (Acquisition how, uint256 acquiredAt);

    /// @notice True when `account` may hold and move tokens: `canSend` and `canReceive` of ERC-7943.
    function canTransact(address account) external view returns (bool);

    /// @notice True when `tokenId` is frozen (for its current holder).
    function isTokenFrozen(uint256 tokenId) external view returns (bool);

    /// @notice True when the collection was taken down.
    function takenDown() external view returns (bool);

    /// @notice True when the collection is paused.
    function paused() external view returns (bool);

    /// @notice The media hash of edition `tokenId`: its own, or the collection's.
    function contentHashOf(uint256 tokenId) external view returns (bytes32);

    /// @notice The collection-wide media hash.
    function contentHash() external view returns (bytes32);

    /// @notice The issuer (museum or brand) account of the series.
    function issuer() external view returns (address);

    /// @notice The account allowed to mint.
    function minter() external view returns (address);

    /// @notice The edition size.
    function maxSupply() external view returns (uint256);

    /// @notice The lock after a mint or a recovery, in seconds.
    function lockPeriod() external view returns (uint256);

    /// @notice The lock after a gift, in seconds.
    function regiftPeriod() external view returns (uint256);

    /// @notice The id the next minted token will get.
    function nextTokenId() external view returns (uint256);

    /// @notice The identity registry every transfer is checked against.
    function identityRegistry() external view returns (address);
}
