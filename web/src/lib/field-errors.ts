/**
 * The one mapping from the server's validation issues to plain words, used by every form: each issue is said
 * with the field's own label and its limit ("锁定期不得少于 180 天"), never zod's raw text.
 */

export interface ServerIssue {
  path: (string | number)[];
  code: string;
  zh: string;
  en: string;
  params?: Record<string, string | number | boolean>;
}

interface FieldLabel {
  zh: string;
  en: string;
  /** The unit a number of this field counts. */
  unit?: { zh: string; en: string };
  /** Money in fen, said in yuan. */
  fen?: boolean;
}

const DAYS = { zh: " 天", en: " days" };
const EDITIONS = { zh: " 份", en: "" };

/** Every field name the server's inputs use, with its label in both languages. */
export const FIELD_LABELS: Record<string, FieldLabel> = {
  title: { zh: "藏品名称", en: "Title" },
  description: { zh: "简介", en: "Description" },
  creator: { zh: "创作者", en: "Creator" },
  story: { zh: "作品故事", en: "Story" },
  mediaSha256: { zh: "作品文件", en: "Artwork file" },
  editionSize: { zh: "发行量", en: "Edition size", unit: EDITIONS },
  priceFen: { zh: "价格", en: "Price", fen: true },
  saleStartsAt: { zh: "开售时间", en: "Sale start" },
  saleEndsAt: { zh: "结束时间", en: "Sale end" },
  perPersonLimit: { zh: "每人限购", en: "Per-person limit", unit: EDITIONS },
  lockDays: { zh: "锁定期", en: "Lock period", unit: DAYS },
  regiftDays: { zh: "再次转赠间隔", en: "Re-gift period", unit: DAYS },
  reason: { zh: "原因", en: "Reason" },
  userId: { zh: "账户编号", en: "Account id" },
  phone: { zh: "手机号", en: "Phone number" },
  collectionId: { zh: "藏品系列编号", en: "Collection id" },
  tokenId: { zh: "藏品编号", en: "Token id" },
  day: { zh: "日期", en: "Date" },
  orderNo: { zh: "订单号", en: "Order number" },
  legalName: { zh: "机构全称", en: "Organisation name" },
  creditCode: { zh: "统一社会信用代码", en: "Unified social credit code" },
  recipients: { zh: "名单", en: "List" },
  code: { zh: "验证码", en: "Code" },
  name: { zh: "姓名", en: "Name" },
  idNumber: { zh: "身份证号码", en: "ID number" },
  quantity: { zh: "数量", en: "Quantity" },
};

/**
 * The platform's own refusals that belong to one field of a form (a rule checked by the service rather than
 * the input schema): forms show them next to that field, like an input issue.
 */
export const APP_CODE_FIELDS: Record<string, string> = {
  "collection.startInPast": "saleStartsAt",
  "collection.startPassed": "saleStartsAt",
  "collection.endBeforeStart": "saleEndsAt",
  "collection.lockBelowFloor": "lockDays",
  "collection.regiftBelowLock": "regiftDays",
  "collection.regiftBelowFloor": "regiftDays",
  "collection.limitAboveEdition": "perPersonLimit",
  "media.unknown": "mediaSha256",
};

function labelOf(field: string): FieldLabel {
  return FIELD_LABELS[field] ?? { zh: "该项", en: "This field" };
}

function amount(label: FieldLabel, value: number, zh: boolean): string {
  if (label.fen === true) return zh ? `¥${(value / 100).toFixed(2)}` : `¥${(value / 100).toFixed(2)}`;
  const unit = label.unit === undefined ? "" : zh ? label.unit.zh : label.unit.en;
  return `${value}${unit}`;
}

/** One issue in plain words, in the reader's language. */
export function describeIssue(field: string, issue: ServerIssue, language: string): string {
  const zh = language.startsWith("zh");
  // Our own codes (collection.lockBelowFloor, auth.phone.invalid…) already say which rule failed.
  if (!issue.code.startsWith("input.")) return zh ? issue.zh : issue.en;
  const label = labelOf(field);
  const name = zh ? label.zh : label.en;
  const p = issue.params ?? {};
  const isText = p.origin === "string";
  const isArray = p.origin === "array";
  switch (issue.code) {
    case "input.too_small": {
      const min = Number(p.minimum);
      if (isText && min <= 1) return zh ? `请填写${name}` : `${name} is required`;
      if (isText) return zh ? `${name}至少 ${min} 个字` : `${name} needs at least ${min} characters`;
      if (isArray) return zh ? `${name}至少需要 ${min} 项` : `${name} needs at least ${min} entries`;
      if (p.inclusive === false)
        return zh ? `${name}须大于 ${amount(label, min, zh)}` : `${name} must be more than ${amount(label, min, zh)}`;
      return zh ? `${name}不得少于 ${amount(label, min, zh)}` : `${name} must be at least ${amount(label, min, zh)}`;
    }
    case "input.too_big": {
      const max = Number(p.maximum);
      if (isText) return zh ? `${name}最多 ${max} 个字` : `${name} may have at most ${max} characters`;
      if (isArray) return zh ? `${name}最多 ${max} 项` : `${name} may have at most ${max} entries`;
      return zh ? `${name}不得超过 ${amount(label, max, zh)}` : `${name} may be at most ${amount(label, max, zh)}`;
    }
    case "input.invalid_type": {
      if (p.expected === "int") return zh ? `${name}须为整数` : `${name} must be a whole number`;
      if (p.expected === "number") return zh ? `请为${name}填写一个数字` : `Enter a number for ${name}`;
      if (p.expected === "date") return zh ? `请为${name}选择日期和时间` : `Choose a date and time for ${name}`;
      return zh ? `请填写${name}` : `${name} is required`;
    }
    case "input.not_multiple_of":
      return zh ? `${name}须为整数` : `${name} must be a whole number`;
    case "input.invalid_format":
      return zh ? `${name}格式不正确` : `${name} is not in the right format`;
    case "input.invalid_value":
      return zh ? `${name}不是可选的值` : `${name} is not one of the allowed values`;
    case "input.text.control":
      return zh ? `${name}不能包含控制字符` : `${name} may not contain control characters`;
    case "input.text.surrogate":
      return zh ? `${name}包含无法识别的字符` : `${name} contains a broken character`;
    case "input.date.range":
      return zh ? `${name}须在 2000 年至 2099 年之间` : `${name} must fall between 2000 and 2099`;
    default:
      return zh ? `${name}填写有误` : `${name} is not valid`;
  }
}

/** The field an issue belongs to: the last named segment of its path (`draft.lockDays` → `lockDays`). */
export function fieldOf(issue: ServerIssue): string {
  const named = issue.path.filter((part): part is string => typeof part === "string");
  return named.at(-1) ?? "";
}

/** Per-field plain messages (the first issue of each field) from the server's issue list. */
export function describeIssues(issues: readonly ServerIssue[], language: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) {
    const field = fieldOf(issue);
    if (out[field] === undefined) out[field] = describeIssue(field, issue, language);
  }
  return out;
}
