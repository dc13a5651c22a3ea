// Vite builds the SPA into dist/ (served at / by the local host, deployed to Static Web Apps).
// JSX is compiled by Vite's esbuild (automatic runtime), so no React plugin is needed.
import { defineConfig } from "vitest/config";

export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: { proxy: { "/api": "http://127.0.0.1:7071" } },
  test: { environment: "jsdom", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
