import type { Config } from "../../config.js";
import type { KycService } from "../kyc/service.js";
import { issuerKeys } from "./keys.js";
import { didWebFor } from "../../../shared/credentials/presentation.js";
import { type CredentialsService, createCredentialsService } from "./service.js";
import { createStandInIssuer } from "./stand-in-issuer.js";

/** The credentials service as the configuration describes it (the platform's composition root calls this). */
export function credentialsFor(
  config: Config,
  deps: { kyc: CredentialsDependenciesKyc; clock: () => Date; fetcher?: typeof fetch },
): CredentialsService {
  const env = config.env;
  const origin = new URL(env.PUBLIC_ORIGIN).origin;
  const did = didWebFor(origin);
  const standInEnabled = env.CREDENTIAL_DEMO_ISSUER ?? env.NODE_ENV !== "production";
  const standIn = standInEnabled ? createStandInIssuer(didWebFor(origin, ["demo-issuer"]), deps.clock) : null;
  const trusted = [...env.TRUSTED_CREDENTIAL_ISSUERS, ...(standIn === null ? [] : [standIn.did])];
  return createCredentialsService({
    kyc: deps.kyc,
    keys: issuerKeys(did, config.secrets.credentialKeys, config.secrets.credentialActiveKeyId),
    publicOrigin: origin,
    clock: deps.clock,
    validityDays: env.CREDENTIAL_VALIDITY_DAYS,
    kycValidityDays: env.KYC_VALIDITY_DAYS,
    adultAtVerification: env.KYC_MIN_AGE >= 18,
    chainId: env.CHAIN_ID ?? 31337,
    identityPepper: config.secrets.identityPepper,
    trustedIssuers: trusted.filter((issuer) => issuer !== did),
    standIn,
    ...(deps.fetcher === undefined ? {} : { fetcher: deps.fetcher }),
  });
}

type CredentialsDependenciesKyc = Pick<
  KycService,
  "status" | "commitmentOf" | "verifiedCommitments" | "acceptAttestation"
>;
