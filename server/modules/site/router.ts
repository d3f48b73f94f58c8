import { publicProcedure, router } from "../../trpc/init.js";

export const siteRouter = router({
  /** What every page shows: the filing numbers in the footer and the chain collectibles live on. */
  info: publicProcedure.query(({ ctx }) => {
    const { env } = ctx.platform.config;
    return {
      blockchainFilingNo: env.SITE_BLOCKCHAIN_FILING_NO,
      icpNo: env.SITE_ICP_NO,
      chainEnabled: env.CHAIN_ENABLED,
      giftDailyCap: env.GIFT_DAILY_CAP,
      paymentWindowMinutes: env.PAYMENT_WINDOW_MINUTES,
    };
  }),
});
