import type { JWK } from "jose";

/**
 * The holder key of the collector's real-name credential: an ECDSA P-256 (ES256) key pair made by WebCrypto
 * with a non-extractable private key, kept in IndexedDB (which stores the CryptoKey object itself, never
 * its bytes). No script, ours included, can read the private key out; a copied credential is useless
 * without it, since every presentation carries a key binding JWT that only this key can sign. The
 * credential is kept beside it.
 */
const DB_NAME = "shuzang-credentials";
const STORE = "holder";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = action(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

export interface HolderKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** The holder key of `accountId` in this browser, made on first use. */
export async function holderKey(accountId: number): Promise<HolderKey> {
  const key = `key:${accountId}`;
  const kept = await run<HolderKey | undefined>("readonly", (store) => store.get(key));
  if (kept !== undefined) return kept;
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const { kty, crv, x, y } = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JWK;
  const made: HolderKey = { privateKey: pair.privateKey, publicJwk: { kty, crv, x, y } };
  await run("readwrite", (store) => store.put(made, key));
  return made;
}

export async function storedCredential(accountId: number): Promise<string | null> {
  return (await run<string | undefined>("readonly", (store) => store.get(`credential:${accountId}`))) ?? null;
}

export async function storeCredential(accountId: number, credential: string): Promise<void> {
  await run("readwrite", (store) => store.put(credential, `credential:${accountId}`));
}
