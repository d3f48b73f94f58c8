import type { SmsProvider } from "./types.js";

/**
 * Development SMS: prints the code with the masked number on the server's
 * console instead of sending it (it never goes to the structured log).
 * `onSend` lets tests and the demo read the code.
 */
export function createConsoleSmsProvider(onSend?: (phone: string, code: string) => void): SmsProvider {
  return {
    name: "console",
    async sendLoginCode(phone, code, ttlMinutes) {
      if (onSend) onSend(phone, code);
      else {
        const masked = `${phone.slice(0, 3)}****${phone.slice(-4)}`;
        process.stdout.write(`[sms] ${masked}: 【数藏】您的登录验证码是 ${code}，${ttlMinutes} 分钟内有效。\n`);
      }
    },
  };
}
