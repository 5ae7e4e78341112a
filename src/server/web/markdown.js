// Markdown to safe HTML: marked parses (GitHub-flavoured, single newlines kept), DOMPurify
// removes anything that could run script; links open in a new tab without an opener.
import { marked } from "./vendor/marked.js";
import DOMPurify from "./vendor/purify.js";

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
