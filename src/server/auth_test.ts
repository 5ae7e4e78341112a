import { test } from "../../tests/harness.ts";
import { assert, assertRejects } from "../../tests/assert.ts";
import { checkBearer, constantTimeEqual } from "./auth.ts";
import { ApiError } from "./errors.ts";

test("auth: constant-time comparison and bearer parsing", async () => {
  assert(await constantTimeEqual("abc", "abc"));
  assert(!(await constantTimeEqual("abc", "abd")));
  assert(!(await constantTimeEqual("abc", "abcd")));
  assert(!(await constantTimeEqual("", "k")));
  await checkBearer("Bearer k1", "k1");
  await checkBearer("bearer   k1 ", "k1");
  for (const h of [null, "", "k1", "Bearer", "Bearer k2", "Basic k1", "Bearer k1x"]) {
    await assertRejects(
      checkBearer(h, "k1"),
      (e: unknown) => e instanceof ApiError && e.status === 401 && e.code === "invalid_api_key",
      String(h),
    );
  }
});
