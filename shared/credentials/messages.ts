/**
 * The refusals of a credential presentation in both languages, one per check. Shared by the server's error
 * catalogue (server/errors.ts spreads them in) and the browser's verify page, which cannot import server code.
 */
export const credentialCheckMessages = {
  "credential.malformed": {
    kind: "BAD_REQUEST",
    zh: "凭证格式无效：不是可识别的 SD-JWT 凭证出示",
    en: "Malformed credential: not a recognisable SD-JWT credential presentation",
  },
  "credential.untrustedIssuer": {
    kind: "FORBIDDEN",
    zh: "凭证的签发方不在受信任的签发方名单中",
    en: "The credential's issuer is not on the list of trusted issuers",
  },
  "credential.issuerUnavailable": {
    kind: "SERVICE_UNAVAILABLE",
    zh: "无法获取签发方的 DID 文档，请稍后再试",
    en: "The issuer's DID document could not be fetched; try again later",
  },
  "credential.tampered": {
    kind: "BAD_REQUEST",
    zh: "凭证签名校验失败：内容被篡改，或签名密钥不属于签发方",
    en: "Signature check failed: the credential was altered or not signed by a key of its issuer",
  },
  "credential.expired": {
    kind: "BAD_REQUEST",
    zh: "凭证已过期（或尚未生效）",
    en: "The credential has expired (or is not valid yet)",
  },
  "credential.notBound": {
    kind: "BAD_REQUEST",
    zh: "出示缺少持有人密钥绑定（KB-JWT），无法证明出示人就是持有人",
    en: "The presentation has no key binding (KB-JWT), so it cannot prove the presenter is the holder",
  },
  "credential.wronglyBound": {
    kind: "BAD_REQUEST",
    zh: "持有人密钥绑定校验失败：出示未由凭证绑定的密钥签名，或与所出示内容不符",
    en: "Holder binding failed: the presentation is not signed by the credential's key or does not match what is shown",
  },
  "credential.wrongAudience": {
    kind: "BAD_REQUEST",
    zh: "该出示是为其他验证方生成的（audience 不符）",
    en: "The presentation was made for another verifier (audience mismatch)",
  },
  "credential.replayed": {
    kind: "BAD_REQUEST",
    zh: "出示已被使用过、挑战码不符或已过期，请重新生成出示",
    en: "The presentation was used before, or its challenge does not match or is stale; make a new one",
  },
  "credential.revoked": {
    kind: "FORBIDDEN",
    zh: "凭证已被撤销",
    en: "The credential has been revoked",
  },
  "credential.statusUnavailable": {
    kind: "SERVICE_UNAVAILABLE",
    zh: "无法获取或校验凭证状态列表，请稍后再试",
    en: "The credential's status list could not be fetched or checked; try again later",
  },
  "credential.claimsMissing": {
    kind: "BAD_REQUEST",
    zh: "出示缺少实名认证所需的声明（是否成年、主体标识）",
    en: "The presentation lacks the claims verification needs (adult, subject id)",
  },
  "credential.proofInvalid": {
    kind: "BAD_REQUEST",
    zh: "持有人密钥证明无效，请刷新页面后重试",
    en: "The holder key proof is not valid; reload the page and retry",
  },
} as const;
