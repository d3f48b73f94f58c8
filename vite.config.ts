import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The web app lives in web/ and builds into dist/web, which the server serves.
// In development Vite proxies the API to the server started by `npm run dev`.
const apiTarget = process.env.VITE_API_TARGET ?? "http://127.0.0.1:3000";

export default defineConfig({
  root: "web",
  plugins: [react()],
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(["/trpc", "/api", "/media", "/pay", "/healthz", "/readyz"].map((p) => [p, apiTarget])),
  },
});
