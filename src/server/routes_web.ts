/**
 * The web chat page at `/` (GET): static files from src/server/web/ and the browser
 * libraries from installed npm packages (assets.ts lists both), read on first request and
 * kept. They are public (no API key: the page asks for one when the API answers 401) and
 * sent with a Content-Security-Policy that allows only this origin, so nothing is fetched
 * from elsewhere and model output rendered as markdown cannot run script.
 *
 * @module
 */
import type { Hono } from "../deps/hono.ts";
import { fileBeside, packageFileBeside, PackageFileError } from "../runtime/package_files.ts";
import { ApiError } from "./errors.ts";
import { WEB_FILES, WEB_LIBRARIES } from "./web/assets.ts";

/** The policy every page file is sent with. */
export const WEB_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const WEB_DIR = new URL("./web/", import.meta.url).href;

/** Registers GET routes of the page's files. */
export function registerWeb(app: Hono): void {
  const cache = new Map<string, Uint8Array>();
  const serve = (route: string, type: string, read: () => Uint8Array) => {
    app.get(route, () => {
      let body = cache.get(route);
      if (!body) {
        try {
          body = read();
        } catch (e) {
          if (!(e instanceof PackageFileError)) throw e;
          throw new ApiError(500, "internal_error", `web page file missing: ${e.message}`);
        }
        cache.set(route, body);
      }
      return new Response(body.slice(), {
        headers: {
          "content-type": type,
          "content-security-policy": WEB_CSP,
          "x-content-type-options": "nosniff",
          "cache-control": "no-cache",
        },
      });
    });
  };
  for (const f of WEB_FILES) serve(f.route, f.type, () => fileBeside(WEB_DIR, f.file));
  for (const l of WEB_LIBRARIES) {
    serve(l.route, l.type, () => packageFileBeside(l.specifier, l.file));
  }
}
