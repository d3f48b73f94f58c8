import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { useTRPC } from "../../lib/trpc";

/**
 * Keeps a collection's stock query fed by the server's push stream while it is connected. Returns whether it
 * is: the page polls only when it is not (no EventSource, or the stream broke and is reconnecting).
 */
export function useLiveStock(collectionId: number): boolean {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const key = trpc.drops.stock.queryKey({ collectionId });
    const source = new EventSource(`/api/drops/${collectionId}/stock/stream`);
    source.onopen = () => setLive(true);
    source.onmessage = (event: MessageEvent<string>) => queryClient.setQueryData(key, JSON.parse(event.data));
    source.onerror = () => setLive(false);
    return () => {
      source.close();
      setLive(false);
    };
  }, [collectionId, queryClient, trpc]);
  return live;
}
