import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router";
import { vi } from "vitest";

import { type ErrorCode, errorCatalog } from "../../server/errors";
import { TRPCProvider, createClient } from "../../web/src/lib/trpc";

/** A refusal the stand-in server answers with, shaped like the real error formatter's (catalogued messages). */
export class Refusal {
  readonly data: { appCode: string; messages: { zh: string; en: string }; params: Record<string, unknown> };
  constructor(
    readonly code: ErrorCode,
    params: Record<string, unknown> = {},
  ) {
    const entry = errorCatalog[code];
    this.data = { appCode: code, messages: { zh: entry.zh, en: entry.en }, params };
  }
}

/** Answers given in turn, one per call (the last one again once they run out). */
export class InTurn {
  private next = 0;
  readonly answers: unknown[];
  constructor(...answers: unknown[]) {
    this.answers = answers;
  }
  take(): unknown {
    const answer = this.answers[Math.min(this.next, this.answers.length - 1)];
    this.next++;
    return answer;
  }
}

export interface RecordedCall {
  procedure: string;
  input: unknown;
}

/**
 * Renders a component with the real tRPC client, whose HTTP requests go to a
 * stand-in `fetch` answering per procedure (so tests see exactly what the page sends).
 */
export function renderWithApi(
  ui: ReactNode,
  answers: Record<string, unknown> = {},
  path = "/",
  files: Record<string, Uint8Array> = {},
) {
  const calls: RecordedCall[] = [];
  const fetchMock = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const href = String(url);
    const file = files[new URL(href, "http://localhost").pathname];
    if (file !== undefined) return new Response(new Uint8Array(file));
    const procedures = decodeURIComponent(new URL(href, "http://localhost").pathname.replace(/^\/trpc\//, "")).split(
      ",",
    );
    const body = init?.body === undefined ? undefined : (JSON.parse(String(init.body)) as Record<string, unknown>);
    const results = procedures.map((procedure, i) => {
      calls.push({ procedure, input: body?.[String(i)] });
      const given = answers[procedure];
      const answer = given instanceof InTurn ? given.take() : given;
      return answer instanceof Refusal
        ? { error: { message: answer.code, code: -32600, data: answer.data } }
        : { result: { data: answer ?? null } };
    });
    return new Response(JSON.stringify(results), { headers: { "content-type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchMock);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const utils = render(
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={createClient("http://localhost")} queryClient={queryClient}>
        <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
      </TRPCProvider>
    </QueryClientProvider>,
  );
  return { ...utils, calls };
}
