import { describe as group, expect, it } from "vitest";
import { ApiError, NetworkError } from "./api";
import { countdown } from "./format";
import { describe, orderFailure } from "./messages";
import { match } from "./router";

group("countdown", () => {
  it("formats minutes and seconds and stops at zero", () => {
    expect(countdown(545)).toBe("9:05");
    expect(countdown(59.9)).toBe("0:59");
    expect(countdown(-3)).toBe("0:00");
  });
});

group("router.match", () => {
  it("extracts params and rejects other paths", () => {
    expect(match("/events/:id", "/events/abc")).toEqual({ id: "abc" });
    expect(match("/events/:id", "/events/abc/holds")).toBeNull();
    expect(match("/holds/:id", "/orders/x")).toBeNull();
  });
});

group("buyer messages", () => {
  const problem = (status: number, code: string, detail = "") =>
    new ApiError({ type: `/problems/${code}`, title: "t", status, detail });

  it("gives every failure a next step", () => {
    for (const e of [problem(409, "sold-out"), problem(409, "hold-expired"), problem(503, "dependency-unavailable"), new NetworkError("x")]) {
      const m = describe(e);
      expect(m.text.length).toBeGreaterThan(5);
      expect(m.next).toBeTruthy();
    }
  });

  it("says how long to wait on 429", () => {
    const e = new ApiError({ type: "/problems/rate-limited", title: "t", status: 429, detail: "" }, 7);
    expect(describe(e).next).toContain("7 seconds");
  });

  it("explains each failed-order reason", () => {
    expect(orderFailure("payment_declined").text).toMatch(/declined/);
    expect(orderFailure("sold_out").text).toMatch(/refunded/);
    expect(orderFailure("payment_timeout").next).toBeTruthy();
  });
});
