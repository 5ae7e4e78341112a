/**
 * @huggingface/jinja (chat templates), pinned in one place (see zod.ts).
 *
 * @module
 */
export * from "npm:@huggingface/jinja@0.5.11";
