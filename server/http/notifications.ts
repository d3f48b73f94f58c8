import type { FastifyPluginAsync } from "fastify";

import type { Platform } from "../platform.js";
import { acceptRawBodies } from "./raw-body.js";
import { refusal } from "./refusal.js";

/**
 * Payment notifications (POST /pay/notify/:provider): the provider's raw body is verified byte for byte,
 * so no parser touches it (this plugin is its own context, with only the raw-string parser).
 */
export const notifications: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  acceptRawBodies(app, "string");
  app.post<{ Params: { provider: string } }>("/pay/notify/:provider", async (request, reply) => {
    if (request.params.provider !== platform.paymentProvider.name)
      return reply.code(404).send(refusal("order.notFound"));
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [
        name.toLowerCase(),
        Array.isArray(value) ? value[0] : value,
      ]),
    );
    const { answer, result } = await platform.payments.handleNotification(
      platform.db,
      headers,
      typeof request.body === "string" ? request.body : "",
    );
    platform.metrics.paymentNotifications.inc({ outcome: result.outcome });
    request.log.info(
      { outcome: result.outcome, reason: "reason" in result ? result.reason : undefined },
      "payment notification",
    );
    return reply.code(answer.status).header("content-type", answer.contentType).send(answer.body);
  });
};
