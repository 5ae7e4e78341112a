/**
 * What the web chat page is made of, in one place: its own static files (this folder,
 * served as they are, no build step) and the browser libraries it loads from installed npm
 * packages (never a CDN). The server's route (routes_web.ts) and the npm build
 * (scripts/build_npm.ts, which copies the files and depends on the packages) read this table.
 *
 * @module
 */

/** A file of this folder served at `route`. */
export interface WebFile {
  readonly route: string;
  readonly file: string;
  readonly type: string;
}

/** A browser library served at `route`: `file` beside the module `specifier` resolves to. */
export interface WebLibrary {
  readonly route: string;
  /** The npm package (its version is pinned in deno.json's imports). */
  readonly package: string;
  readonly specifier: string;
  readonly file: string;
  readonly type: string;
}

const JS = "text/javascript; charset=utf-8";

/** The page's own files. */
export const WEB_FILES: readonly WebFile[] = [
  { route: "/", file: "index.html", type: "text/html; charset=utf-8" },
  { route: "/web/app.js", file: "app.js", type: JS },
  { route: "/web/markdown.js", file: "markdown.js", type: JS },
  { route: "/web/sse.js", file: "sse.js", type: JS },
  { route: "/web/style.css", file: "style.css", type: "text/css; charset=utf-8" },
];

/** Markdown rendering (marked) and sanitizing of the HTML it makes (DOMPurify), as ES modules. */
export const WEB_LIBRARIES: readonly WebLibrary[] = [
  {
    route: "/web/vendor/marked.js",
    package: "marked",
    specifier: "marked",
    file: "marked.esm.js",
    type: JS,
  },
  {
    route: "/web/vendor/purify.js",
    package: "dompurify",
    specifier: "dompurify",
    file: "purify.es.mjs",
    type: JS,
  },
];

/** Every route of the page (served without the API key: they hold no data). */
export const WEB_ROUTES: ReadonlySet<string> = new Set([
  ...WEB_FILES.map((f) => f.route),
  ...WEB_LIBRARIES.map((l) => l.route),
]);
