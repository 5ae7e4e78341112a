/**
 * The version the server reports (/api/version, /props build_info, the OpenAPI document);
 * version_test.ts checks it against deno.json's.
 *
 * @module
 */

/** The package version. */
export const SERVER_VERSION = "0.1.0";
