/** The `next` query parameter when it is a path on this site (never another origin). */
export function safeNext(search: string, fallback = "/"): string {
  const next = new URLSearchParams(search).get("next");
  if (next === null || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return fallback;
  return next;
}
