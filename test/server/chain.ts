import { BrowserProvider } from "ethers";
import { network } from "hardhat";

import PlatformModule from "../../ignition/modules/Platform.js";
import { createSeedCustody } from "../../server/modules/wallets/custody.js";

/** An in-process chain with the platform deployed, its roles held by the server's custody accounts. */
export async function deployChain(mnemonic: string) {
  const connection = await network.create();
  const custody = createSeedCustody(mnemonic);
  const deployed = await connection.ignition.deploy(PlatformModule, {
    parameters: {
      Platform: {
        kycOperator: custody.platformAddress("kycOperator"),
        compliance: custody.platformAddress("compliance"),
        publisher: custody.platformAddress("publisher"),
        platformAdmin: custody.platformAddress("platformAdmin"),
        minter: custody.platformAddress("minter"),
      },
    },
  });
  const provider = new BrowserProvider(connection.provider);
  const addresses = {
    accessManager: await deployed.accessManager.getAddress(),
    identityRegistry: await deployed.identityRegistry.getAddress(),
    collectionFactory: await deployed.factory.getAddress(),
  };
  return { connection, custody, provider, addresses };
}
