import type { FastifyPluginAsync } from "fastify";

/**
 * Marks a plugin as not encapsulated (what `fastify-plugin` does): its hooks,
 * routes, handlers and content-type parsers land on the instance that
 * registers it, exactly as if its body were written inline there. Plugins
 * that need a context of their own (e.g. one without the JSON body parser)
 * are left plain.
 */
export function unencapsulated<Options extends Record<string, unknown>>(
  plugin: FastifyPluginAsync<Options>,
): FastifyPluginAsync<Options> {
  return Object.assign(plugin, { [Symbol.for("skip-override")]: true });
}
