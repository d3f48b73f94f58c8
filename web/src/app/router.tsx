import { createBrowserRouter } from "react-router";

import { Layout } from "../components/Layout";
import { NotFound } from "../components/NotFound";
import { Loading } from "../components/States";
import { prefetch } from "./clients";

/**
 * Every page is its own chunk (route-level splitting): the collector's entry
 * holds only the shell, and the admin pages load only for issuers and operators.
 * The storefront's first pages ask for their data in a loader, which runs while
 * the page's chunk loads.
 */
export const router = createBrowserRouter([
  {
    path: "/",
    Component: Layout,
    HydrateFallback: Loading,
    children: [
      {
        index: true,
        loader: () => prefetch.home(),
        lazy: async () => ({ Component: (await import("../features/home/HomePage")).HomePage }),
      },
      {
        path: "c/:collectionId",
        loader: ({ params }) => prefetch.collection(Number(params.collectionId)),
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
        // The certificate shows its collection's artwork: public data, fetched alongside the login check.
        loader: ({ params }) => prefetch.certificate(Number(params.collectionId), Number(params.tokenId)),
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
