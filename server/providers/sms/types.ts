/** Why a code is sent: to log in, or to confirm a sensitive action of a logged-in account (step-up). */
export type SmsCodePurpose = "login" | "stepUp";

/** Sends text messages to mainland mobile numbers. */
export interface SmsProvider {
  readonly name: string;
  /** Sends a one-time code; `purpose` (login unless given) only changes the wording where the provider can. */
  sendLoginCode(phone: string, code: string, ttlMinutes: number, purpose?: SmsCodePurpose): Promise<void>;
}
