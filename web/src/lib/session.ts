import { useQuery } from "@tanstack/react-query";

import { useTRPC } from "./trpc";

/** The logged-in account (null when anonymous). */
export function useMe() {
  const trpc = useTRPC();
  return useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 }));
}

/** The collector's real-name status; only asked for collectors. */
export function useKycStatus(enabled: boolean) {
  const trpc = useTRPC();
  return useQuery(trpc.kyc.status.queryOptions(undefined, { enabled, staleTime: 30_000 }));
}
