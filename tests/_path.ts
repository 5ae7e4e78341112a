/** Path helpers for tests (node:path and node:url work under Deno and Node). @module */
export { dirname, join } from "node:path";
export { fileURLToPath as fromFileUrl } from "node:url";
