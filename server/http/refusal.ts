import { type ErrorCode, errorCatalog } from "../errors.js";

const HTTP_STATUS: Record<string, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_CONTENT: 422,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

/** The HTTP status a plain (non-tRPC) route answers an error code with, as tRPC would. */
export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[errorCatalog[code].kind] ?? 500;
}

/** The same refusal shape plain routes and tRPC share: a code and both languages. */
export function refusal(code: ErrorCode, params: Record<string, string | number> = {}) {
  const entry = errorCatalog[code];
  return { error: { appCode: code, messages: { zh: entry.zh, en: entry.en }, params } };
}
