import { csrfToken } from "./trpc";

export interface UploadedMedia {
  sha256: string;
  mimeType: string;
  sizeBytes: number;
}

export class UploadError extends Error {
  constructor(readonly messages: { zh: string; en: string }) {
    super(messages.en);
  }
}

/** Sends an artwork file as the raw request body; the server judges its type by content and hashes it. */
export async function uploadMedia(file: File): Promise<UploadedMedia> {
  const response = await fetch("/media", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/octet-stream", "x-csrf-token": csrfToken() },
    body: file,
  });
  const body = (await response.json()) as UploadedMedia & { error?: { messages?: { zh: string; en: string } } };
  if (!response.ok) {
    throw new UploadError(
      body.error?.messages ?? { zh: `上传失败（${response.status}）`, en: `Upload failed (${response.status})` },
    );
  }
  return body;
}

/** `datetime-local` value (China time) ⇄ Date. */
export function toLocalInput(value: Date | string): string {
  const shifted = new Date(new Date(value).getTime() + 8 * 3600_000);
  return shifted.toISOString().slice(0, 16);
}

export function fromLocalInput(value: string): Date {
  return new Date(`${value}:00+08:00`);
}
