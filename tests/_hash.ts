/** SHA-256 for tests (node:crypto works under Deno and Node). @module */
import { createHash } from "node:crypto";

/** Lower-case hex SHA-256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
