// Bundles the canvas island into ../wwwroot/designer (ignored by git; built by the project build and the scripts).
import { build } from "esbuild";
import { mkdirSync, copyFileSync } from "node:fs";

const out = new URL("../wwwroot/designer/", import.meta.url);
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [new URL("./src/designer.jsx", import.meta.url).pathname],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  outfile: new URL("designer.js", out).pathname,
  logLevel: "warning",
});
copyFileSync(new URL("./node_modules/@xyflow/react/dist/style.css", import.meta.url), new URL("reactflow.css", out));
copyFileSync(new URL("./src/designer.css", import.meta.url), new URL("designer.css", out));
copyFileSync(new URL("./src/pcm-capture.js", import.meta.url), new URL("pcm-capture.js", out));
