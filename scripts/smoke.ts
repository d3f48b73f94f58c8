/**
 * `npm run smoke`: checks a running `npm start` over HTTP, as a collector would
 * use it: health, the three demo collections, login with the console SMS code,
 * a purchase through the sandbox cashier, and the minted token verified from
 * the chain. SMOKE_ORIGIN (default http://127.0.0.1:3000) and DATA_DIR (where
 * the console SMS keeps its outbox) say which platform.
 *
 * `npm run smoke -- --origin URL --read-only`: checks a production server
 * without changing anything and without an account: liveness (/healthz),
 * readiness (/readyz: database and chain), the public catalog, and one
 * contract call through the public API (`verify.token`, which asks the
 * factory on chain; the first published collection's token #1 when there is
 * one). No login, no purchase, no cookie is needed.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  options: { origin: { type: "string" }, "read-only": { type: "boolean", default: false } },
});
const origin = (flags.origin ?? process.env.SMOKE_ORIGIN ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(
  /\/$/,
  "",
);
const dataDir = process.env.DATA_DIR ?? ".data";
const phone = process.env.SMOKE_PHONE ?? "13800000003";
const cookies = new Map<string, string>();

function step(message: string) {
  console.log(`✓ ${message}`);
}

function fail(message: string): never {
  console.error(`✖ ${message}`);
  process.exit(1);
}

function remember(response: Response) {
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(";");
    const [name, value] = pair!.split("=");
    if (name !== undefined && value !== undefined) cookies.set(name.trim(), value.trim());
  }
}

function cookieHeader() {
  return [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
}

async function call<T>(kind: "query" | "mutation", procedure: string, input?: unknown): Promise<T> {
  const answer = await request<T>(kind, procedure, input);
  if ("error" in answer) fail(`${procedure} refused: ${answer.error}`);
  return answer.data;
}

/** One tRPC call; a refusal comes back as its error code instead of ending the run. */
async function request<T>(
  kind: "query" | "mutation",
  procedure: string,
  input?: unknown,
): Promise<{ data: T } | { error: string }> {
  const url =
    kind === "query"
      ? `${origin}/trpc/${procedure}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
      : `${origin}/trpc/${procedure}`;
  const response = await fetch(url, {
    method: kind === "query" ? "GET" : "POST",
    headers: {
      cookie: cookieHeader(),
      "content-type": "application/json",
      "x-csrf-token": cookies.get("csrf") ?? "",
    },
    ...(kind === "mutation" ? { body: JSON.stringify(input ?? null) } : {}),
  });
  remember(response);
  let body: { result?: { data: T }; error?: { message: string } };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    fail(`${procedure} answered HTTP ${response.status} without JSON (is ${origin} the platform's server?)`);
  }
  if (body.error !== undefined) return { error: body.error.message };
  return { data: body.result!.data };
}

function latestCode(): string | null {
  const masked = `${phone.slice(0, 3)}****${phone.slice(-4)}`;
  let text: string;
  try {
    text = readFileSync(path.join(dataDir, "sms-outbox.log"), "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n").filter((line) => line.startsWith(`[sms] ${masked}:`));
  return /(\d{6})/.exec(lines.at(-1) ?? "")?.[1] ?? null;
}

async function health() {
  const answer = await fetch(`${origin}/healthz`).catch(() =>
    fail(`nothing answers at ${origin} (${flags["read-only"] ? "is the server running?" : "is npm start running?"})`),
  );
  remember(answer);
  if (!answer.ok) fail(`/healthz answered ${answer.status}`);
  step(`${origin}/healthz answers`);
}

/** --read-only: nothing is changed, no account is used; works against a production server. */
async function readOnly() {
  await health();
  const ready = await fetch(`${origin}/readyz`);
  const readiness = (await ready.json().catch(() => ({}))) as { database?: boolean; chain?: boolean };
  if (!ready.ok) {
    fail(`/readyz answered ${ready.status}: database ${readiness.database ?? "?"}, chain ${readiness.chain ?? "?"}`);
  }
  step("/readyz: the database and the chain answer");

  const collections = await call<{ id: number; title: string; contractAddress: string | null }[]>(
    "query",
    "catalog.list",
  );
  step(
    collections.length === 0
      ? "the catalog answers (no collection published yet)"
      : `the catalog lists ${collections.length} collections: ${collections.map((c) => c.title).join("、")}`,
  );

  // A contract call through the public API: the server asks the factory whether the address is one of its
  // collections (and, if so, the token's facts). An address that is none answers collectible.notFound.
  const published = collections.find((c) => c.contractAddress !== null);
  const contractAddress = published?.contractAddress ?? "0x0000000000000000000000000000000000000001";
  const answer = await request<{ edition: string; ownerMasked: string }>("query", "verify.token", {
    contractAddress,
    tokenId: 1,
  });
  if ("data" in answer) {
    step(
      `the chain confirms ${published?.title ?? contractAddress} edition ${answer.data.edition}, held by ${answer.data.ownerMasked}`,
    );
  } else if (answer.error === "collectible.notFound") {
    step(
      published === undefined
        ? `the chain answers through the API: ${contractAddress} is no collection of the factory`
        : `the chain answers through the API: ${published.title} has no token #1 yet`,
    );
  } else {
    fail(`verify.token refused: ${answer.error} (the server could not read the chain)`);
  }
  console.log("smoke (read-only): all checks passed");
}

async function main() {
  await health();

  const collections = await call<{ id: number; title: string; saleState: string }[]>("query", "catalog.list");
  if (collections.length < 3) fail(`expected the 3 demo collections, found ${collections.length}`);
  step(`storefront lists ${collections.length} collections: ${collections.map((c) => c.title).join("、")}`);

  const before = latestCode();
  await call("mutation", "auth.requestCode", { phone });
  let code: string | null = null;
  for (let i = 0; i < 50 && (code === null || code === before); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    code = latestCode();
  }
  if (code === null || code === before) fail(`no login code in ${dataDir}/sms-outbox.log`);
  await call("mutation", "auth.login", { phone, code });
  step(`logged in as the demo collector ${phone.slice(0, 3)}****${phone.slice(-4)}`);

  let target: { id: number; title: string } | undefined;
  for (const collection of collections.filter((c) => c.saleState === "on_sale")) {
    const allowance = await call<{ remaining: number }>("query", "drops.allowance", { collectionId: collection.id });
    if (allowance.remaining > 0) {
      target = collection;
      break;
    }
  }
  if (target === undefined)
    fail("no on-sale collection where the demo collector is under the per-person limit (restart npm start)");
  const order = await call<{ orderNo: string; amountFen: number }>("mutation", "drops.reserve", {
    collectionId: target.id,
    quantity: 1,
    idempotencyKey: `smoke-${Date.now()}`,
  });
  step(`reserved 1 × ${target.title}: order ${order.orderNo}, ¥${(order.amountFen / 100).toFixed(2)}`);

  const intent = await call<{ cashierPath: string | null }>("mutation", "payments.createIntent", {
    orderNo: order.orderNo,
  });
  if (intent.cashierPath === null)
    fail("the payment provider is not the sandbox; smoke pays only at the sandbox cashier");
  const paid = await fetch(`${origin}${intent.cashierPath}/pay`, { method: "POST" });
  if (!paid.ok) fail(`the sandbox cashier answered ${paid.status}`);
  step("paid at the sandbox cashier (signed notification sent to the server)");

  const deadline = Date.now() + 60_000;
  let minted: { tokenId: number; contractAddress: string | null; txHash: string | null }[] = [];
  while (Date.now() < deadline) {
    const view = await call<{ status: string; minted: typeof minted }>("query", "orders.get", {
      orderNo: order.orderNo,
    });
    if (view.status === "minted") {
      minted = view.minted;
      break;
    }
    if (view.status === "refunded" || view.status === "expired") fail(`the order ended ${view.status}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const token = minted[0];
  if (token === undefined || token.contractAddress === null) fail("the order was not minted within 60 seconds");
  step(`minted token #${token.tokenId} in ${token.txHash}`);

  const facts = await call<{ edition: string; ownerMasked: string }>("query", "verify.token", {
    contractAddress: token.contractAddress,
    tokenId: token.tokenId,
  });
  step(`the chain confirms edition ${facts.edition}, held by ${facts.ownerMasked}`);
  console.log("smoke: all checks passed");
}

await (flags["read-only"] ? readOnly() : main());
