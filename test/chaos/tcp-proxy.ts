import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";

/**
 * A TCP forwarder in front of a service, which can make the service
 * unreachable the way a network partition does: while it is down, open
 * connections are cut and new ones are accepted but never answered (the
 * client's packets go nowhere); when it comes back, the connections held in
 * silence are reset and new ones are forwarded again.
 */
export interface TcpProxy {
  url: string;
  port: number;
  /** Connections accepted in all, and how many were held in silence during outages. */
  stats(): { connections: number; blackholed: number };
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let isDown = false;
  const live = new Set<Socket>();
  const held = new Set<Socket>();
  const stats = { connections: 0, blackholed: 0 };

  const server: Server = createServer((client) => {
    stats.connections++;
    client.on("error", () => undefined);
    if (isDown) {
      stats.blackholed++;
      held.add(client);
      client.pause();
      client.on("close", () => held.delete(client));
      return;
    }
    const upstream = connect(target.port, target.host);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.on("close", () => {
      upstream.destroy();
      live.delete(client);
    });
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    live.add(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats: () => ({ ...stats }),
    down() {
      isDown = true;
      for (const socket of live) socket.destroy();
      live.clear();
    },
    up() {
      isDown = false;
      for (const socket of held) socket.resetAndDestroy();
      held.clear();
    },
    async close() {
      for (const socket of [...live, ...held]) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
