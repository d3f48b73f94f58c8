import { appendFileSync } from "node:fs";

import type { SmsProvider } from "./types.js";

/**
 * Development SMS: prints the code with the masked number on the server's
 * console instead of sending it (it never goes to the structured log), and,
 * when given an outbox file, appends the same line there so local scripts
 * (`npm run smoke`) can log in. `onSend` lets tests read the code.
 */
export function createConsoleSmsProvider(
  options: { onSend?: (phone: string, code: string) => void; outboxFile?: string } = {},
): SmsProvider {
  return {
    name: "console",
    async sendLoginCode(phone, code, ttlMinutes, purpose = "login") {
      if (options.onSend) {
        options.onSend(phone, code);
        return;
      }
      const masked = `${phone.slice(0, 3)}****${phone.slice(-4)}`;
      const text =
        purpose === "login"
          ? `您的登录验证码是 ${code}，${ttlMinutes} 分钟内有效。`
          : `您正在进行需要再次验证的操作，验证码 ${code}，${ttlMinutes} 分钟内有效，请勿告诉他人。`;
      const line = `[sms] ${masked}: 【数藏】${text}\n`;
      process.stdout.write(line);
      if (options.outboxFile !== undefined) appendFileSync(options.outboxFile, line, { mode: 0o600 });
    },
  };
}
