// Markdown to safe HTML: marked parses (GitHub-flavoured, single newlines kept), DOMPurify
// removes anything that could run script; links open in a new tab without an opener.
//
// The libraries are served from the installed npm packages (see assets.ts), not from files in
// this folder, so their URLs are made at run time (tools that resolve imports on disk skip them).
const vendor = (/** @type {string} */ name) => new URL(`./vendor/${name}`, import.meta.url).href;
const { marked } = await import(vendor("marked.js"));
const { default: DOMPurify } = await import(vendor("purify.js"));

marked.use({ gfm: true, breaks: true });

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

/**
 * @param {string} text markdown
 * @returns {string} sanitized HTML
 */
export function renderMarkdown(text) {
  return DOMPurify.sanitize(/** @type {string} */ (marked.parse(text, { async: false })));
}
