import { describe, expect, it } from "vitest";
import { srcSet } from "./EventImage";

describe("srcSet", () => {
  it("offers the three stored widths of an uploaded image", () => {
    expect(srcSet("/api/images/e1/0123456789abcdef-640.jpg")).toBe(
      "/api/images/e1/0123456789abcdef-320.jpg 320w, /api/images/e1/0123456789abcdef-640.jpg 640w, /api/images/e1/0123456789abcdef-1280.jpg 1280w",
    );
  });
  it("leaves other image addresses alone", () => {
    expect(srcSet("https://example.com/poster.png")).toBeUndefined();
  });
});
