/**
 * hono, pinned in one place (see zod.ts).
 *
 * @module
 */
export * from "npm:hono@4.13.19";
