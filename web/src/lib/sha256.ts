/** Hex SHA-256 of bytes, computed by the browser itself. */
export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `0x…` bytes32 from the chain, as plain lowercase hex. */
export function plainHex(bytes32: string): string {
  return bytes32.toLowerCase().replace(/^0x/, "");
}
