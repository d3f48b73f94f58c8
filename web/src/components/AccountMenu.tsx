import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";

import { useTRPC } from "../lib/trpc";

/** The signed-in person's phone (masked) and the log-out button, in the header of every page. */
export function AccountMenu({ phoneMasked }: { phoneMasked: string }) {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: async () => {
        queryClient.clear();
        await navigate("/", { replace: true });
      },
    }),
  );
  return (
    <div className="account-menu">
      <span className="muted account-phone" title={t("nav.signedInAs", { phone: phoneMasked })}>
        {phoneMasked}
      </span>
      <button
        type="button"
        className="button ghost"
        onClick={() => logout.mutate()}
        disabled={logout.isPending}
        data-testid="logout"
      >
        {t("nav.logout")}
      </button>
    </div>
  );
}
