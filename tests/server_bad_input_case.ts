/**
 * The shape of a malformed-request case and the values the cases share.
 *
 * @module
 */

/** One malformed request and the error it must get. */
export interface BadInputCase {
  name: string;
  path?: string;
  method?: string;
  /** A JSON value, or a string sent verbatim. */
  body?: unknown;
  status: number;
  code: string;
  param?: string | null;
}

export const C = "/v1/completions";
export const CHAT = "/v1/chat/completions";
export const msgs = [{ role: "user", content: "Hi" }];
export const long = "Once upon a time there was a cat. ".repeat(40);
