/**
 * `npm run smoke`: checks a running `npm start` over HTTP, as a collector would
 * use it: health, the three demo collections, login with the console SMS code,
 * a purchase through the sandbox cashier, and the minted token verified from
 * the chain. SMOKE_ORIGIN (default http://127.0.0.1:3000) and DATA_DIR (where
 * the console SMS keeps its outbox) say which platform.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

const origin = process.env.SMOKE_ORIGIN ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
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
  const body = (await response.json()) as { result?: { data: T }; error?: { message: string } };
  if (body.error !== undefined) fail(`${procedure} refused: ${body.error.message}`);
  return body.result!.data;
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

async function main() {
  const health = await fetch(`${origin}/healthz`).catch(() =>
    fail(`nothing answers at ${origin} (is npm start running?)`),
  );
  remember(health);
  if (!health.ok) fail(`/healthz answered ${health.status}`);
  step(`${origin}/healthz answers`);

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

await main();
