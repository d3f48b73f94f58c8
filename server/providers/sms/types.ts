/** Sends text messages to mainland mobile numbers. */
export interface SmsProvider {
  readonly name: string;
  sendLoginCode(phone: string, code: string, ttlMinutes: number): Promise<void>;
}
