import { auditRouter } from "../modules/audit/router.js";
import { credentialsRouter } from "../modules/credentials/router.js";
import { collectiblesRouter, giftsRouter, verifyRouter } from "../modules/collectibles/router.js";
import { catalogRouter, issuerRouter, reviewRouter, studioRouter } from "../modules/catalog/router.js";
import { dropsRouter, lotteryRouter, ordersRouter } from "../modules/drops/router.js";
import { authRouter } from "../modules/identity/router.js";
import { paymentsRouter } from "../modules/payments/router.js";
import { kycRouter, privacyRouter } from "../modules/kyc/router.js";
import { opsRouter } from "../modules/ops/router.js";
import { complianceRouter } from "../modules/compliance/router.js";
import { siteRouter } from "../modules/site/router.js";
import { router } from "./init.js";

export const appRouter = router({
  auth: authRouter,
  kyc: kycRouter,
  privacy: privacyRouter,
  audit: auditRouter,
  issuer: issuerRouter,
  studio: studioRouter,
  review: reviewRouter,
  catalog: catalogRouter,
  drops: dropsRouter,
  orders: ordersRouter,
  lottery: lotteryRouter,
  payments: paymentsRouter,
  collectibles: collectiblesRouter,
  gifts: giftsRouter,
  verify: verifyRouter,
  site: siteRouter,
  ops: opsRouter,
  compliance: complianceRouter,
  credentials: credentialsRouter,
});

export type AppRouter = typeof appRouter;
