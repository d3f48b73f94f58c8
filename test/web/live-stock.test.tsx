import { act, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { BuyPanel } from "../../web/src/features/collection/BuyPanel";
import { renderWithApi } from "./render";

/** The browser's EventSource, reduced to what the page uses; the test plays the server. */
class StandInEventSource {
  static opened: StandInEventSource[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: MessageEvent<string>) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    StandInEventSource.opened.push(this);
  }
  close() {
    this.closed = true;
  }
  push(data: unknown) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(data) }));
  }
}

const collection = {
  id: 7,
  priceFen: 9900,
  editionSize: 100,
  perPersonLimit: 1,
  saleStartsAt: new Date(Date.now() - 60_000),
  saleEndsAt: new Date(Date.now() + 3_600_000),
};

describe("live stock on the collection page", () => {
  afterEach(() => {
    StandInEventSource.opened = [];
    vi.unstubAllGlobals();
  });

  it("shows the stock the server pushes, stops polling while the stream is up, and closes it on leaving", async () => {
    vi.stubGlobal("EventSource", StandInEventSource);
    const { calls, unmount } = renderWithApi(<BuyPanel collection={collection} />, {
      "drops.stock": { editionSize: 100, available: 40, reserved: 10, sold: 50 },
    });
    await waitFor(() => expect(screen.getByTestId("stock").textContent).toBe("剩余 40 / 100 份"));
    const stream = StandInEventSource.opened[0]!;
    expect(stream.url).toBe("/api/drops/7/stock/stream");
    act(() => {
      stream.onopen?.();
      stream.push({ editionSize: 100, available: 3, reserved: 7, sold: 90 });
    });
    expect(screen.getByTestId("stock").textContent).toBe("剩余 3 / 100 份");
    const polls = calls.filter((c) => c.procedure === "drops.stock").length;
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(calls.filter((c) => c.procedure === "drops.stock").length).toBe(polls);
    unmount();
    expect(stream.closed).toBe(true);
  });
});
