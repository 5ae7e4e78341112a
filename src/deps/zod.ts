/**
 * zod, pinned in one place: source files import it from here (an npm: specifier needs no
 * import map, so mod.ts works when imported from outside the repository); the npm build turns
 * `npm:zod@4.6.7` into `zod`. Versions agree with deno.json's import map (tested).
 *
 * @module
 */
export * from "npm:zod@4.6.7";
