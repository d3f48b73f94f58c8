import type { FastifyPluginAsync } from "fastify";

import type { Platform } from "../platform.js";

/**
 * The platform as a credential issuer on the web: its did:web document (`/.well-known/did.json`), its Token
 * Status Lists (`/credentials/status/<list>`, `application/statuslist+jwt`, built at each request so a
 * revocation holds at once) and, outside production, the stand-in trusted issuer under `/demo-issuer/`
 * (its did.json, and a page that plays the person's wallet: issue and present for a verifier's challenge).
 */
export const credentialRoutes: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  const credentials = platform.credentials;

  app.get("/.well-known/did.json", async (_request, reply) =>
    reply
      .header("content-type", "application/did+json")
      .header("access-control-allow-origin", "*")
      .header("cache-control", "public, max-age=300")
      .send(JSON.stringify(credentials.didDocument())),
  );

  app.get<{ Params: { list: string } }>("/credentials/status/:list", async (request, reply) => {
    const list = Number(request.params.list);
    if (!Number.isInteger(list) || list < 1 || list > 100_000)
      return reply.code(404).send({ error: { appCode: "notFound" } });
    return reply
      .header("content-type", "application/statuslist+jwt")
      .header("access-control-allow-origin", "*")
      .header("cache-control", "no-cache")
      .send(await credentials.statusListJwt(platform.db, list));
  });

  const standIn = credentials.standIn;
  if (standIn === null) return;
  app.get("/demo-issuer/did.json", async (_request, reply) =>
    reply.header("content-type", "application/did+json").send(JSON.stringify(standIn.keys.document)),
  );
  app.get<{ Querystring: Record<string, string | undefined> }>("/demo-issuer/wallet", async (request, reply) => {
    const { aud = "", nonce = "", sub, adult } = request.query;
    const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const page = (body: string) =>
      reply.type("text/html; charset=utf-8").send(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>演示凭证机构 Stand-in issuer</title></head>
<body><h1>演示凭证机构 Stand-in trusted issuer</h1>
<p>仅用于演示与测试：此机构为任何人签发凭证。For demos and tests only: it vouches for anyone.</p>${body}</body></html>`);
    if (sub === undefined || !/^[A-Za-z0-9_-]{4,64}$/.test(sub) || aud === "" || nonce === "") {
      return page(`<form method="get" action="/demo-issuer/wallet">
<input type="hidden" name="aud" value="${escape(aud)}"><input type="hidden" name="nonce" value="${escape(nonce)}">
<label>化名主体标识 Pseudonymous subject id <input name="sub" required pattern="[A-Za-z0-9_-]{4,64}" value="demo-${Date.now().toString(36)}"></label>
<label><input type="checkbox" name="adult" value="1" checked> 已满 18 周岁 Over 18</label>
<button type="submit">签发并出示 Issue and present</button></form>`);
    }
    const presentation = await standIn.present({ aud, nonce }, { sub, adult: adult === "1" });
    const back = `/me/verify#presentation=${encodeURIComponent(presentation)}`;
    return page(`<p>出示已生成（仅披露：主体标识、是否成年）。Presentation made (discloses only the subject id and adulthood).</p>
<textarea readonly rows="8" cols="60" aria-label="presentation">${escape(presentation)}</textarea>
<p><a href="${escape(back)}">返回数藏完成认证 Back to Shuzang to finish</a></p>`);
  });
};
