import { QueryClient } from "@tanstack/react-query";
import { TRPCClientError, createTRPCClient, httpBatchLink, httpLink, splitLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";

import type { AppRouter } from "../../../server/trpc/router";
import { APP_CODE_FIELDS, type ServerIssue, describeIssue, describeIssues } from "./field-errors";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

/** The double-submit CSRF token the server set as a readable cookie. */
export function csrfToken(): string {
  const match = /(?:^|;\s*)csrf=([^;]+)/.exec(document.cookie);
  return match?.[1] !== undefined ? decodeURIComponent(match[1]) : "";
}

/**
 * A reservation travels alone to `/trpc/drops.reserve`, the flash-sale door (server/http/reserve-door.ts):
 * in a rush it must not wait in a batch with page queries. Everything else is batched.
 */
export const RESERVE_PROCEDURE = "drops.reserve";

/**
 * Calls sent alone rather than batched: the reservation, and the certificate, which reads the chain. A batch is
 * answered when its slowest call is, so the certificate page's login check would otherwise wait for a chain read.
 */
const UNBATCHED = new Set<string>([RESERVE_PROCEDURE, "collectibles.certificate"]);

export function createClient(baseUrl = "") {
  const options = {
    url: `${baseUrl}/trpc`,
    headers: () => ({ "x-csrf-token": csrfToken() }),
    fetch: (url: RequestInfo | URL, init?: RequestInit) => fetch(url, { ...init, credentials: "same-origin" }),
  };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => UNBATCHED.has(op.path),
        true: httpLink(options),
        false: httpBatchLink(options),
      }),
    ],
  });
}

export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        // Refusals (4xx) are answers, not outages: do not retry them.
        retry: (failures, error) => failures < 2 && appErrorCode(error) === "internal",
      },
    },
  });
}

export interface AppErrorData {
  appCode?: string;
  messages?: { zh: string; en: string };
  params?: Record<string, unknown>;
  fieldErrors?: Record<string, { code: string; zh: string; en: string }[] | undefined>;
  issues?: ServerIssue[];
}

function dataOf(error: unknown): AppErrorData | undefined {
  if (error instanceof TRPCClientError) return (error.data ?? undefined) as AppErrorData | undefined;
  return undefined;
}

/** The server's error code (`drop.soldOut`, …), or `internal` when the request failed otherwise. */
export function appErrorCode(error: unknown): string {
  return dataOf(error)?.appCode ?? "internal";
}

export function appErrorParams(error: unknown): Record<string, unknown> {
  return dataOf(error)?.params ?? {};
}

/** The server's message in the reader's language. */
export function appErrorMessage(error: unknown, language: string): string {
  const data = dataOf(error);
  const messages = data?.messages;
  if (messages === undefined) {
    return language.startsWith("zh") ? "网络异常，请稍后重试" : "Network problem, please try again";
  }
  const base = language.startsWith("zh") ? messages.zh : messages.en;
  const details = describeParams(data?.params ?? {}, language);
  return details === ""
    ? base
    : `${base}${language.startsWith("zh") ? "（" : " ("}${details}${language.startsWith("zh") ? "）" : ")"}`;
}

/** A wait in words: seconds under a minute, else whole minutes (rounded up): "请 15 分钟后重试". */
function waitInWords(seconds: number, zh: boolean): string {
  if (seconds < 60) return zh ? `请 ${seconds} 秒后重试` : `retry in ${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  return zh ? `请 ${minutes} 分钟后重试` : `retry in ${minutes} min`;
}

/** The facts a refusal carries (an unlock date, a limit, a wait), in words. */
function describeParams(params: Record<string, unknown>, language: string): string {
  const zh = language.startsWith("zh");
  const date = (value: unknown) =>
    new Intl.DateTimeFormat(language, { dateStyle: "long", timeZone: "Asia/Shanghai" }).format(new Date(String(value)));
  const parts: string[] = [];
  if (params.unlocksAt !== undefined)
    parts.push(zh ? `解锁日期：${date(params.unlocksAt)}` : `unlocks on ${date(params.unlocksAt)}`);
  if (params.startsAt !== undefined)
    parts.push(zh ? `开售时间：${date(params.startsAt)}` : `starts ${date(params.startsAt)}`);
  if (typeof params.limit === "number")
    parts.push(zh ? `每人限购 ${params.limit} 份` : `limit ${params.limit} per person`);
  if (typeof params.attemptsLeft === "number")
    parts.push(zh ? `还可尝试 ${params.attemptsLeft} 次` : `${params.attemptsLeft} attempts left`);
  if (typeof params.retryAfterSeconds === "number") parts.push(waitInWords(params.retryAfterSeconds, zh));
  if (typeof params.minLockDays === "number")
    parts.push(zh ? `锁定期至少 ${params.minLockDays} 天` : `lock at least ${params.minLockDays} days`);
  if (typeof params.minRegiftDays === "number")
    parts.push(
      zh ? `再次转赠间隔至少 ${params.minRegiftDays} 天` : `re-gift period at least ${params.minRegiftDays} days`,
    );
  if (typeof params.day === "string") parts.push(zh ? `日期：${params.day}` : `day ${params.day}`);
  if (typeof params.minAge === "number")
    parts.push(zh ? `须年满 ${params.minAge} 周岁` : `must be ${params.minAge} or older`);
  return parts.join(zh ? "；" : "; ");
}

/**
 * Per-field plain messages of a refused input, in the reader's language (web/src/lib/field-errors.ts): keyed by the
 * field's own name, nested paths included (`draft.lockDays` → `lockDays`).
 */
export function fieldErrors(error: unknown, language: string): Record<string, string> {
  const data = dataOf(error);
  if (data?.issues !== undefined) return describeIssues(data.issues, language);
  const field = data?.appCode === undefined ? undefined : APP_CODE_FIELDS[data.appCode];
  if (field !== undefined) return { [field]: appErrorMessage(error, language) };
  const out: Record<string, string> = {};
  for (const [field, issues] of Object.entries(data?.fieldErrors ?? {})) {
    const first = issues?.[0];
    if (first !== undefined) out[field] = describeIssue(field, { path: [field], ...first }, language);
  }
  return out;
}
