import { createBrowserRouter } from "react-router";

import { Layout } from "../components/Layout";
import { NotFound } from "../components/NotFound";
import { Loading } from "../components/States";

/**
 * Every page is its own chunk (route-level splitting): the collector's entry
 * holds only the shell, and the admin pages load only for issuers and operators.
 */
export const router = createBrowserRouter([
  {
    path: "/",
    Component: Layout,
    HydrateFallback: Loading,
    children: [
      { index: true, lazy: async () => ({ Component: (await import("../features/home/HomePage")).HomePage }) },
      {
        path: "c/:collectionId",
        lazy: async () => ({ Component: (await import("../features/collection/CollectionPage")).CollectionPage }),
      },
      { path: "login", lazy: async () => ({ Component: (await import("../features/auth/LoginPage")).LoginPage }) },
      {
        path: "me/verify",
        lazy: async () => ({ Component: (await import("../features/kyc/VerifyIdentityPage")).VerifyIdentityPage }),
      },
      {
        path: "checkout/:orderNo",
        lazy: async () => ({ Component: (await import("../features/checkout/CheckoutPage")).CheckoutPage }),
      },
      {
        path: "me",
        lazy: async () => ({ Component: (await import("../features/collectibles/MyPage")).MyPage }),
      },
      {
        path: "me/t/:collectionId/:tokenId",
        lazy: async () => ({
          Component: (await import("../features/collectibles/CertificatePage")).CertificatePage,
        }),
      },
      {
        path: "verify/:contractAddress?/:tokenId?",
        lazy: async () => ({ Component: (await import("../features/verify/VerifyPage")).VerifyPage }),
      },
      {
        path: "me/credential",
        lazy: async () => ({ Component: (await import("../features/credentials/CredentialPage")).CredentialPage }),
      },
      {
        path: "credential/verify",
        lazy: async () => ({
          Component: (await import("../features/credentials/VerifyCredentialPage")).VerifyCredentialPage,
        }),
      },
      {
        path: "studio/*",
        lazy: async () => ({ Component: (await import("../features/studio/StudioApp")).StudioApp }),
      },
      {
        path: "ops/*",
        lazy: async () => ({ Component: (await import("../features/ops/OpsApp")).OpsApp }),
      },
      { path: "*", Component: NotFound },
    ],
  },
]);
