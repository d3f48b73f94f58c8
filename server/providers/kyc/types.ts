/**
 * A real-name (name + ID number) verification service: the ID bureau's
 * two-factor check as offered by licensed providers.
 */
export type KycVerdict = { outcome: "match" | "mismatch"; reference: string };

export interface KycProvider {
  readonly name: string;
  /** Answers whether `name` belongs to `idNumber`; throws {@link KycProviderUnavailable} when it cannot tell. */
  verify(input: { name: string; idNumber: string }): Promise<KycVerdict>;
}

/** The provider could not answer (down, timing out, refusing our credentials). Nothing was decided. */
export class KycProviderUnavailable extends Error {
  constructor(reason: string) {
    super(`KYC provider unavailable: ${reason}`);
    this.name = "KycProviderUnavailable";
  }
}
