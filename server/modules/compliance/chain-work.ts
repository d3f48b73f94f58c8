import type { TransactionReceipt } from "ethers";

import type { Chain } from "../../chain/client.js";
import { AppError } from "../../errors.js";
import type { ComplianceKind, ComplianceSubject } from "./outbox.js";

/**
 * The chain half of each compliance action. Each first reads whether the chain is already where the action
 * leads (a resend after a crash, or a second sender, must not act twice) and sends only when it is not.
 * Answers the transaction's hash, or null when nothing had to be sent.
 */

/** A contract refusal: permanent, the action fails. Anything else (node away, timeout) is retried. */
export class ChainRefusal extends Error {}

function classify(error: unknown): never {
  if (error instanceof AppError) throw error;
  const message = String((error as Error)?.message ?? error);
  if (/revert|CALL_EXCEPTION/i.test(message)) throw new ChainRefusal(message.slice(0, 200));
  throw error;
}

async function send(chain: Chain, build: Parameters<Chain["send"]>[1]): Promise<string> {
  const receipt: TransactionReceipt = await chain.send("compliance", build).catch(classify);
  return receipt.hash;
}

/** Whether `tokenId` of `contract` still has a holder (false once it, or its collection, was taken down). */
async function holderOf(chain: Chain, contract: string, tokenId: number): Promise<string | null> {
  return chain
    .collection(contract)
    .ownerOf(tokenId)
    .then(
      (owner) => owner,
      (error: unknown) => {
        if (/revert|CALL_EXCEPTION|NonexistentToken/i.test(String((error as Error)?.message ?? error))) return null;
        throw error;
      },
    );
}

export async function performOnChain(
  chain: Chain,
  kind: ComplianceKind,
  subject: ComplianceSubject,
  reasonCode: number,
): Promise<string | null> {
  const { registry } = chain;
  switch (kind) {
    case "identity.freeze":
    case "identity.unfreeze": {
      const freeze = kind === "identity.freeze";
      const commitment = subject.commitment!;
      if ((await registry.isIdentityFrozen(commitment)) === freeze) return null;
      return send(chain, ({ registry: signed }, overrides) =>
        freeze
          ? signed.freezeIdentity(commitment, reasonCode, overrides)
          : signed.unfreezeIdentity(commitment, reasonCode, overrides),
      );
    }
    case "token.freeze":
    case "token.unfreeze": {
      const freeze = kind === "token.freeze";
      const contract = subject.contract!;
      const tokenId = subject.tokenId!;
      if ((await chain.collection(contract).isTokenFrozen(tokenId)) === freeze) return null;
      return send(chain, ({ collection }, overrides) =>
        freeze
          ? collection(contract).freezeToken(tokenId, reasonCode, overrides)
          : collection(contract).unfreezeToken(tokenId, reasonCode, overrides),
      );
    }
    case "token.recover": {
      const contract = subject.contract!;
      const tokenId = subject.tokenId!;
      const holder = await holderOf(chain, contract, tokenId);
      if (holder === null) throw new ChainRefusal("token no longer exists");
      if (holder.toLowerCase() === subject.toAddress!.toLowerCase()) return null;
      return send(chain, ({ collection }, overrides) =>
        collection(contract).forceTransfer(tokenId, subject.toAddress!, reasonCode, overrides),
      );
    }
    case "token.takedown": {
      const contract = subject.contract!;
      const tokenId = subject.tokenId!;
      if ((await holderOf(chain, contract, tokenId)) === null) return null;
      return send(chain, ({ collection }, overrides) => collection(contract).takedown(tokenId, reasonCode, overrides));
    }
    case "collection.takedown": {
      const contract = subject.contract!;
      if (await chain.collection(contract).takenDown()) return null;
      return send(chain, ({ collection }, overrides) => collection(contract).takedownCollection(reasonCode, overrides));
    }
  }
}
