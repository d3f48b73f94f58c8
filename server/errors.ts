import { credentialCheckMessages } from "../shared/credentials/messages.js";

/**
 * Every refusal the platform can give, with its HTTP-ish class and its
 * message in Chinese and English. Services throw {@link AppError} with a
 * code from here; the tRPC layer turns it into a precise error the UI can
 * translate. Validation messages of zod refinements use the same codes.
 */
export const errorCatalog = {
  "auth.phone.invalid": {
    kind: "BAD_REQUEST",
    zh: "请输入有效的中国大陆手机号码",
    en: "Enter a valid mainland China mobile number",
  },
  "auth.code.invalid": { kind: "BAD_REQUEST", zh: "验证码为 6 位数字", en: "The code has 6 digits" },
  "auth.code.wrong": { kind: "UNAUTHORIZED", zh: "验证码错误", en: "Wrong code" },
  "auth.code.expired": {
    kind: "UNAUTHORIZED",
    zh: "验证码已过期，请重新获取",
    en: "The code has expired; request a new one",
  },
  "auth.locked": {
    kind: "TOO_MANY_REQUESTS",
    zh: "错误次数过多，该号码已暂时锁定",
    en: "Too many wrong codes; this number is locked for now",
  },
  "auth.rateLimited": {
    kind: "TOO_MANY_REQUESTS",
    zh: "操作过于频繁，请稍后再试",
    en: "Too many requests; try again later",
  },
  "auth.smsUnavailable": {
    kind: "SERVICE_UNAVAILABLE",
    zh: "短信暂时无法发送，请稍后再试",
    en: "The text message could not be sent; try again later",
  },
  "auth.required": { kind: "UNAUTHORIZED", zh: "请先登录", en: "Please log in" },
  "server.busy": {
    kind: "SERVICE_UNAVAILABLE",
    zh: "访问人数过多，请稍后再试",
    en: "The server is very busy; please try again in a moment",
  },
  "auth.forbidden": { kind: "FORBIDDEN", zh: "无权进行此操作", en: "You are not allowed to do this" },
  "auth.csrf": {
    kind: "FORBIDDEN",
    zh: "请求来源校验失败，请刷新页面后重试",
    en: "Request origin check failed; reload the page and retry",
  },
  "auth.stepUpRequired": {
    kind: "FORBIDDEN",
    zh: "此操作需要再次验证：请获取短信验证码并输入",
    en: "This action needs a fresh check: request a text-message code and enter it",
  },
  "auth.session.notFound": { kind: "NOT_FOUND", zh: "找不到该登录会话", en: "No such session" },
  "account.erased": {
    kind: "FORBIDDEN",
    zh: "该账户已申请注销",
    en: "This account has asked to be erased",
  },

  "kyc.name.invalid": {
    kind: "BAD_REQUEST",
    zh: "请输入身份证上的中文姓名（2–30 个汉字，可含间隔号·）",
    en: "Enter the Chinese name on the ID card (2–30 characters, middle dot allowed)",
  },
  "kyc.idNumber.format": {
    kind: "BAD_REQUEST",
    zh: "身份证号码应为 18 位，前 17 位为数字，最后一位为数字或 X",
    en: "An ID number has 18 characters: 17 digits, then a digit or X",
  },
  "kyc.idNumber.province": {
    kind: "BAD_REQUEST",
    zh: "身份证号码的地区代码无效",
    en: "The region code of the ID number is not valid",
  },
  "kyc.idNumber.birthDate": {
    kind: "BAD_REQUEST",
    zh: "身份证号码中的出生日期无效",
    en: "The birth date in the ID number is not a valid date",
  },
  "kyc.idNumber.futureBirthDate": {
    kind: "BAD_REQUEST",
    zh: "身份证号码中的出生日期晚于今天",
    en: "The birth date in the ID number is in the future",
  },
  "kyc.idNumber.checksum": {
    kind: "BAD_REQUEST",
    zh: "身份证号码校验位不正确，请核对",
    en: "The check character of the ID number is wrong; please check it",
  },
  "kyc.underage": {
    kind: "FORBIDDEN",
    zh: "根据相关规定，未成年人不能购买数字藏品",
    en: "Minors may not buy digital collectibles",
  },
  "kyc.nameMismatch": {
    kind: "UNPROCESSABLE_CONTENT",
    zh: "姓名与身份证号码不一致",
    en: "The name does not match the ID number",
  },
  "kyc.providerUnavailable": {
    kind: "SERVICE_UNAVAILABLE",
    zh: "实名认证服务暂时不可用，请稍后再试",
    en: "The verification service is unavailable; try again later",
  },
  "kyc.identityInUse": {
    kind: "CONFLICT",
    zh: "该身份已绑定其他账户",
    en: "This identity is already bound to another account",
  },
  "kyc.alreadyVerified": {
    kind: "CONFLICT",
    zh: "您已完成实名认证",
    en: "You are already verified",
  },
  "kyc.notVerified": {
    kind: "FORBIDDEN",
    zh: "请先完成实名认证",
    en: "Please complete real-name verification first",
  },
  "kyc.reverifyTooEarly": {
    kind: "PRECONDITION_FAILED",
    zh: "认证有效期充足，暂不需要重新认证",
    en: "Your verification is not close to expiry yet",
  },

  ...credentialCheckMessages,

  "issuer.name.invalid": {
    kind: "BAD_REQUEST",
    zh: "请输入营业执照上的机构全称（2–100 个字符）",
    en: "Enter the organisation's registered name (2–100 characters)",
  },
  "issuer.creditCode.format": {
    kind: "BAD_REQUEST",
    zh: "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）",
    en: "A unified social credit code has 18 digits or capitals (no I, O, S, V, Z)",
  },
  "issuer.creditCode.checksum": {
    kind: "BAD_REQUEST",
    zh: "统一社会信用代码校验位不正确",
    en: "The check character of the unified social credit code is wrong",
  },
  "issuer.creditCodeInUse": {
    kind: "CONFLICT",
    zh: "该机构已提交过入驻申请",
    en: "This organisation has already applied",
  },
  "issuer.alreadyMember": {
    kind: "CONFLICT",
    zh: "您的账户已属于一个发行机构或已有待审核的申请",
    en: "Your account already belongs to an issuer or has a pending application",
  },
  "issuer.notFound": { kind: "NOT_FOUND", zh: "找不到该发行机构", en: "No such issuer" },
  "issuer.notPending": {
    kind: "PRECONDITION_FAILED",
    zh: "该申请已处理",
    en: "This application has already been decided",
  },
  "review.ownSubmission": {
    kind: "FORBIDDEN",
    zh: "不能审核本人提交的申请或藏品",
    en: "Nobody reviews their own application or collection",
  },
  "review.reasonRequired": {
    kind: "BAD_REQUEST",
    zh: "驳回时请填写原因",
    en: "A rejection needs a reason",
  },
  "collection.notFound": { kind: "NOT_FOUND", zh: "找不到该藏品系列", en: "No such collection" },
  "collection.wrongState": {
    kind: "PRECONDITION_FAILED",
    zh: "藏品系列当前状态不允许此操作",
    en: "The collection's current state does not allow this",
  },
  "collection.invalidTerms": {
    kind: "BAD_REQUEST",
    zh: "发售条款不符合平台规则",
    en: "The sale terms break a platform rule",
  },
  "collection.endBeforeStart": {
    kind: "BAD_REQUEST",
    zh: "结束时间须晚于开售时间",
    en: "The sale must end after it starts",
  },
  "collection.startInPast": {
    kind: "BAD_REQUEST",
    zh: "开售时间不能早于现在，请选择一个将来的开售时间",
    en: "The sale may not start in the past; choose a start time in the future",
  },
  "collection.startPassed": {
    kind: "PRECONDITION_FAILED",
    zh: "开售时间已过（审核期间已到开售时间），请重新选择开售时间后再发布",
    en: "The sale start passed while the collection was in review; choose a new start time, then publish",
  },
  "collection.lockBelowFloor": {
    kind: "BAD_REQUEST",
    zh: "锁定期短于平台规定的最短天数",
    en: "The lock period is shorter than the platform's minimum",
  },
  "collection.regiftBelowLock": {
    kind: "BAD_REQUEST",
    zh: "再次转赠间隔不得短于锁定期",
    en: "The re-gift period may not be shorter than the lock period",
  },
  "collection.regiftBelowFloor": {
    kind: "BAD_REQUEST",
    zh: "再次转赠间隔短于平台规定的最短天数",
    en: "The re-gift period is shorter than the platform's minimum",
  },
  "collection.limitAboveEdition": {
    kind: "BAD_REQUEST",
    zh: "每人限购数量不得超过发行量",
    en: "The per-person limit may not exceed the edition size",
  },
  "collection.chainUnavailable": {
    kind: "SERVICE_UNAVAILABLE",
    zh: "区块链暂时不可用，请稍后再发布",
    en: "The chain is unavailable; publish again later",
  },
  "collection.publishing": {
    kind: "CONFLICT",
    zh: "该藏品系列正在发布中，请稍候",
    en: "This collection is being published; wait a moment",
  },
  "collection.takenDown": {
    kind: "PRECONDITION_FAILED",
    zh: "该藏品系列已下架",
    en: "This collection has been taken down",
  },
  "compliance.reasonCodeUnknown": {
    kind: "BAD_REQUEST",
    zh: "请选择原因类别",
    en: "Choose a reason category",
  },
  "compliance.notFound": { kind: "NOT_FOUND", zh: "找不到该合规操作", en: "No such compliance action" },
  "compliance.ownRequest": {
    kind: "FORBIDDEN",
    zh: "不能批准或驳回本人发起的操作，须由另一名运营人员处理",
    en: "Nobody approves or rejects their own request; another operator must decide it",
  },
  "compliance.alreadyDecided": {
    kind: "CONFLICT",
    zh: "该操作已被处理",
    en: "This request has already been decided",
  },
  "compliance.tokenNotFound": { kind: "NOT_FOUND", zh: "找不到该藏品", en: "No such token" },
  "compliance.alreadyTakenDown": {
    kind: "PRECONDITION_FAILED",
    zh: "已下架，无需重复操作",
    en: "Already taken down",
  },
  "compliance.sameHolder": {
    kind: "PRECONDITION_FAILED",
    zh: "目标账户已持有该藏品",
    en: "The target account already holds this token",
  },
  "compliance.pendingRequest": {
    kind: "CONFLICT",
    zh: "已有待处理的相同申请",
    en: "The same request is already waiting for a decision",
  },
  "media.unsupportedType": {
    kind: "UNSUPPORTED_MEDIA_TYPE",
    zh: "仅支持 PNG、JPEG、WebP、GIF、MP4 和 GLB 文件（按文件内容判断）",
    en: "Only PNG, JPEG, WebP, GIF, MP4 and GLB files are accepted (judged by content)",
  },
  "media.tooLarge": { kind: "PAYLOAD_TOO_LARGE", zh: "文件过大", en: "The file is too large" },
  "media.unreadableImage": {
    kind: "UNPROCESSABLE_CONTENT",
    zh: "图片无法读取（文件损坏或尺寸过大）",
    en: "The image cannot be read (damaged, or too many pixels)",
  },
  "media.unknown": {
    kind: "BAD_REQUEST",
    zh: "请先上传作品文件",
    en: "Upload the artwork file first",
  },
  "media.ownedByOtherIssuer": {
    kind: "CONFLICT",
    zh: "该作品文件已由其他机构登记",
    en: "Another issuer has already registered this artwork file",
  },

  "drop.notStarted": { kind: "PRECONDITION_FAILED", zh: "尚未开售", en: "The sale has not started" },
  "drop.ended": { kind: "PRECONDITION_FAILED", zh: "发售已结束", en: "The sale has ended" },
  "drop.soldOut": { kind: "CONFLICT", zh: "已售罄", en: "Sold out" },
  "drop.limitReached": {
    kind: "FORBIDDEN",
    zh: "已达到每人限购数量",
    en: "You have reached the per-person limit",
  },
  "lottery.notFound": { kind: "NOT_FOUND", zh: "该藏品没有抽签", en: "This drop has no lottery" },
  "lottery.exists": { kind: "CONFLICT", zh: "该藏品已设置抽签", en: "This drop already has a lottery" },
  "lottery.invalidWindow": {
    kind: "BAD_REQUEST",
    zh: "报名截止时间须在当前之后、开售之前，中签名额不超过发行量",
    en: "Registration must close after now and before the sale; winners cannot exceed the edition size",
  },
  "lottery.closed": { kind: "PRECONDITION_FAILED", zh: "抽签报名已截止", en: "Lottery registration has closed" },
  "lottery.stillOpen": { kind: "PRECONDITION_FAILED", zh: "报名尚未截止", en: "Registration is still open" },
  "lottery.alreadyRegistered": { kind: "CONFLICT", zh: "您已报名", en: "You have already registered" },
  "lottery.alreadyDrawn": { kind: "CONFLICT", zh: "已开奖", en: "The lottery has been drawn" },
  "lottery.anchorPending": {
    kind: "SERVICE_UNAVAILABLE",
    zh: "开奖时间之后的区块尚未产生，请稍后再试",
    en: "No chain block after the draw time yet; try again shortly",
  },
  "lottery.notWinner": {
    kind: "FORBIDDEN",
    zh: "本次为抽签发售，仅中签用户可购买",
    en: "This drop is sold by lottery; only winners may buy",
  },
  "airdrop.listHasProblems": {
    kind: "PRECONDITION_FAILED",
    zh: "名单中有无法空投的用户，请先处理检查报告中的问题",
    en: "Some people on the list cannot receive an airdrop; resolve the check report first",
  },
  "airdrop.empty": { kind: "BAD_REQUEST", zh: "名单为空", en: "The list is empty" },
  "airdrop.notFound": { kind: "NOT_FOUND", zh: "找不到该空投", en: "No such airdrop" },
  "collectible.notFound": { kind: "NOT_FOUND", zh: "找不到该藏品", en: "No such collectible" },
  "gift.recipientNotFound": {
    kind: "NOT_FOUND",
    zh: "找不到该收藏者，请核对手机号或收藏者编号",
    en: "No such collector; check the phone number or collector id",
  },
  "gift.recipientNotVerified": {
    kind: "PRECONDITION_FAILED",
    zh: "对方尚未完成实名认证，暂不能接收转赠",
    en: "The recipient has not completed real-name verification yet",
  },
  "gift.nameNotConfirmed": {
    kind: "BAD_REQUEST",
    zh: "请确认受赠人的姓名",
    en: "Confirm the recipient's name",
  },
  "gift.dailyCap": {
    kind: "TOO_MANY_REQUESTS",
    zh: "今日转赠次数已达上限",
    en: "You have reached today's gift limit",
  },
  "gift.suspended": {
    kind: "FORBIDDEN",
    zh: "您的账户转赠功能已被暂停，请联系客服",
    en: "Gifting is suspended for your account; please contact support",
  },
  "gift.locked": {
    kind: "PRECONDITION_FAILED",
    zh: "该藏品仍在锁定期内，解锁后方可转赠",
    en: "This collectible is still locked; it can be gifted once it unlocks",
  },
  "gift.refusedByChain": {
    kind: "PRECONDITION_FAILED",
    zh: "该藏品当前无法转赠（可能已被冻结）",
    en: "This collectible cannot be gifted right now (it may be frozen)",
  },
  "order.notFound": { kind: "NOT_FOUND", zh: "找不到该订单", en: "No such order" },
  "order.wrongState": {
    kind: "PRECONDITION_FAILED",
    zh: "订单当前状态不允许此操作",
    en: "The order's current state does not allow this",
  },

  "payments.tradePaid": {
    kind: "CONFLICT",
    zh: "这笔订单已付款，无需再次支付。",
    en: "This order is already paid; there is nothing more to pay.",
  },
  "payments.tradeClosed": {
    kind: "CONFLICT",
    zh: "这笔订单已关闭（已取消或已退款），不能再付款。如仍想购买，请回到商店重新下单。",
    en: "This order is closed (cancelled or refunded) and can no longer be paid. To buy, place a new order in the shop.",
  },
  "payments.tradeExpired": {
    kind: "CONFLICT",
    zh: "订单在支付时限内未付款，已超时关闭，不会扣款。如仍想购买，请回到商店重新下单。",
    en: "The order was not paid in time and has been closed; nothing was charged. To buy, place a new order in the shop.",
  },
  "payments.freeOrder": {
    kind: "PRECONDITION_FAILED",
    zh: "免费订单（含空投）无需支付",
    en: "A free order (an airdrop's included) has nothing to pay",
  },
  "payments.nothingToRefund": {
    kind: "PRECONDITION_FAILED",
    zh: "免费订单（含空投）没有可退的款项",
    en: "A free order (an airdrop's included) has no money to refund",
  },
  "payments.statementUnavailable": {
    kind: "PRECONDITION_FAILED",
    zh: "当前支付渠道暂不支持自动对账",
    en: "This payment provider's statements cannot be fetched yet",
  },
  "payments.dayInvalid": {
    kind: "BAD_REQUEST",
    zh: "请输入有效的日期（YYYY-MM-DD）",
    en: "Enter a valid date (YYYY-MM-DD)",
  },
  "payments.statementNotReady": {
    kind: "PRECONDITION_FAILED",
    zh: "该日账单尚未生成，请稍后再对账",
    en: "The provider has not produced this day's statement yet; reconcile later",
  },
  "payments.dayNotEnded": {
    kind: "PRECONDITION_FAILED",
    zh: "该日尚未结束，只能对已结束的日期对账",
    en: "That day has not ended yet; only finished days can be reconciled",
  },
  "payments.statementFailed": {
    kind: "SERVICE_UNAVAILABLE",
    zh: "无法获取或校验支付渠道的账单，请稍后再试",
    en: "The provider's statement could not be fetched or verified; try again later",
  },

  "input.invalid": { kind: "BAD_REQUEST", zh: "输入有误", en: "Invalid input" },
  "input.text.control": {
    kind: "BAD_REQUEST",
    zh: "不能包含控制字符或不可见的排版符号",
    en: "May not contain control characters or invisible formatting marks",
  },
  "input.text.surrogate": {
    kind: "BAD_REQUEST",
    zh: "包含无法识别的字符，请重新输入",
    en: "Contains a broken character; type it again",
  },
  "input.date.range": {
    kind: "BAD_REQUEST",
    zh: "日期须在 2000 年至 2099 年之间",
    en: "The date must fall between 2000 and 2099",
  },
  internal: {
    kind: "INTERNAL_SERVER_ERROR",
    zh: "服务器开小差了，请稍后再试",
    en: "Something went wrong on our side; try again later",
  },
  "ops.reasonRequired": {
    kind: "BAD_REQUEST",
    zh: "请填写 2–200 字的原因",
    en: "Give a reason of 2 to 200 characters",
  },
  "ops.accountNotFound": { kind: "NOT_FOUND", zh: "找不到该账户", en: "No such account" },
  "ops.tokenNotFound": {
    kind: "NOT_FOUND",
    zh: "该藏品系列中没有这个编号的藏品（尚未铸造或编号有误）",
    en: "This collection has no collectible with that number (not minted yet, or a wrong number)",
  },
  "ops.noCustodialAddress": {
    kind: "PRECONDITION_FAILED",
    zh: "该账户尚无链上地址（未完成实名认证）",
    en: "This account has no chain address yet (not verified)",
  },
  "ops.chainUnavailable": {
    kind: "SERVICE_UNAVAILABLE",
    zh: "区块链暂时不可用，请稍后重试",
    en: "The chain is unavailable; try again later",
  },
  "ops.chainRefused": {
    kind: "PRECONDITION_FAILED",
    zh: "链上合约拒绝了该操作（可能已是目标状态）",
    en: "The contract refused this (it may already be in that state)",
  },
} as const satisfies Record<string, { kind: ErrorKind; zh: string; en: string }>;

export type ErrorKind =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "UNPROCESSABLE_CONTENT"
  | "TOO_MANY_REQUESTS"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "PAYLOAD_TOO_LARGE"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

export type ErrorCode = keyof typeof errorCatalog;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCatalog, value);
}

/** A refusal with a catalogued code; `params` are facts the UI may show (never personal data). */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly params: Record<string, string | number>;

  constructor(code: ErrorCode, params: Record<string, string | number> = {}) {
    // A refusal is an answer, not a fault: it carries no stack trace, whose capture is most of the cost
    // of the refusals a flash sale's crowd receives (sold out, limit reached), thousands per second.
    const depth = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(code);
    Error.stackTraceLimit = depth;
    this.code = code;
    this.params = params;
    this.name = "AppError";
  }
}
