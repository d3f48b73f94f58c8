import { and, eq } from "drizzle-orm";
import { isAddress } from "ethers";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { collectionCards } from "../catalog/sql.js";
import { type CollectiblesDependencies, chainOrRefuse } from "./context.js";
import { tokens } from "./tables.js";

/** Certificates and public verification: what the chain says about a token. */

const ACQUISITION = ["minted", "gifted", "recovered"] as const;

function maskAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/**
 * How a token left the chain by a takedown, from the contract's own events: the collection's
 * `CollectionTakenDown` or the token's `TokenTakenDown`; null when it was not taken down.
 */
async function takedownOf(chain: Chain, contractAddress: string, tokenId: number) {
  const contract = chain.collection(contractAddress);
  let scope: "collection" | "token";
  if (await contract.takenDown()) scope = "collection";
  else {
    // An existing token has an owner; below the next token id, only a burned (taken-down) one has none.
    const owned = await contract.ownerOf(tokenId).then(
      () => true,
      () => false,
    );
    if (owned) return null;
    scope = "token";
  }
  const events =
    scope === "collection"
      ? await contract.queryFilter(contract.filters.CollectionTakenDown())
      : await contract.queryFilter(contract.filters.TokenTakenDown(tokenId));
  const event = events.at(-1) as unknown as
    { args: { reasonCode: bigint }; transactionHash: string; blockNumber: number } | undefined;
  // Taken down for sure (the state says so); the event's details may not be indexed by the node yet.
  if (event === undefined) return { scope, reasonCode: null, txHash: null, at: null };
  const block = await chain.provider.getBlock(event.blockNumber);
  return {
    scope,
    reasonCode: Number(event.args.reasonCode),
    txHash: event.transactionHash,
    at: block === null ? null : new Date(block.timestamp * 1000),
  };
}

/** What the chain says about one token; null when the contract is not the platform's or the token does not exist. */
async function onChain(chainOrNull: Chain | null, contractAddress: string, tokenId: number) {
  const chain = chainOrRefuse(chainOrNull);
  if (!(await chain.factory.isCollection(contractAddress))) return null;
  const contract = chain.collection(contractAddress);
  if (tokenId < 1 || BigInt(tokenId) >= (await contract.nextTokenId())) return null;
  // A token taken down (or in a collection taken down) existed and was burned: the chain says so truthfully.
  const takenDown = await takedownOf(chain, contractAddress, tokenId);
  if (takenDown !== null) {
    const [contentHash, maxSupply, name, issuer] = await Promise.all([
      contract.contentHashOf(tokenId),
      contract.maxSupply(),
      contract.name(),
      contract.issuer(),
    ]);
    return {
      contractAddress,
      tokenId,
      edition: `${tokenId} / ${maxSupply}`,
      name,
      issuerAddress: issuer,
      owner: null,
      ownerMasked: null,
      contentHash,
      acquiredBy: null,
      acquiredAt: null,
      unlocksAt: null,
      locked: null,
      takenDown,
    };
  }
  const [owner, contentHash, unlocksAt, acquisition, maxSupply, name, issuer, locked] = await Promise.all([
    contract.ownerOf(tokenId),
    contract.contentHashOf(tokenId),
    contract.unlocksAt(tokenId),
    contract.acquisitionOf(tokenId),
    contract.maxSupply(),
    contract.name(),
    contract.issuer(),
    contract.locked(tokenId),
  ]);
  return {
    contractAddress,
    tokenId,
    edition: `${tokenId} / ${maxSupply}`,
    name,
    issuerAddress: issuer,
    owner,
    ownerMasked: maskAddress(owner),
    contentHash,
    acquiredBy: ACQUISITION[Number(acquisition[0])] ?? "minted",
    acquiredAt: new Date(Number(acquisition[1]) * 1000),
    unlocksAt: new Date(Number(unlocksAt) * 1000),
    /** By the chain's clock, which decides. */
    locked,
    takenDown: null,
  };
}

export function createCertificates(deps: Pick<CollectiblesDependencies, "chain">) {
  return {
    /** The certificate of a token the caller holds: the platform's records plus the chain's facts. */
    async certificate(db: Db, userId: number, collectionId: number, tokenId: number) {
      const [row] = await db
        .select({
          token: tokens,
          collection: {
            title: collectionCards.title,
            creator: collectionCards.creator,
            mediaSha256: collectionCards.mediaSha256,
            contractAddress: collectionCards.contractAddress,
          },
          issuerName: collectionCards.issuerName,
        })
        .from(tokens)
        .innerJoin(collectionCards, eq(collectionCards.collectionId, tokens.collectionId))
        .where(and(eq(tokens.collectionId, collectionId), eq(tokens.tokenId, tokenId), eq(tokens.ownerUserId, userId)));
      // Someone else's collectible is "not found": its holder is not disclosed.
      if (row === undefined) throw new AppError("collectible.notFound");
      const facts = await onChain(deps.chain, row.collection.contractAddress!, tokenId);
      return {
        title: row.collection.title,
        issuerName: row.issuerName,
        creator: row.collection.creator,
        mintTxHash: row.token.mintTxHash,
        // A taken-down token shows no artwork.
        mediaUrl: facts?.takenDown == null ? `/media/${row.collection.mediaSha256}` : null,
        ...facts!,
      };
    },

    /** Anyone: what the chain says about a token, and whether it is one of the platform's. */
    async verify(contractAddress: string, tokenId: number) {
      if (!isAddress(contractAddress)) throw new AppError("collectible.notFound");
      const facts = await onChain(deps.chain, contractAddress, tokenId);
      if (facts === null) throw new AppError("collectible.notFound");
      return facts;
    },
  };
}
