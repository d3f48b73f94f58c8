import { auditRouter } from "../modules/audit/router.js";
import { authRouter } from "../modules/identity/router.js";
import { kycRouter, privacyRouter } from "../modules/kyc/router.js";
import { router } from "./init.js";

export const appRouter = router({
  auth: authRouter,
  kyc: kycRouter,
  privacy: privacyRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
