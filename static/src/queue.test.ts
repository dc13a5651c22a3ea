import { afterEach, describe, expect, it } from "vitest";
import { waitText } from "./pages/WaitingPage";
import { dropQueueToken, queueToken, saveQueueToken } from "./queueToken";

afterEach(() => sessionStorage.clear());

describe("queue token storage", () => {
  it("keeps a token per event until it expires", () => {
    saveQueueToken("e1", "tok-1", new Date(10_000).toISOString());
    expect(queueToken("e1", 9_999)).toBe("tok-1");
    expect(queueToken("e2", 0)).toBeNull();
    expect(queueToken("e1", 10_000)).toBeNull();
    expect(queueToken("e1", 0)).toBeNull(); // an expired entry is removed
  });

  it("forgets a dropped or damaged token", () => {
    saveQueueToken("e1", "tok-1", new Date(10_000).toISOString());
    dropQueueToken("e1");
    expect(queueToken("e1", 0)).toBeNull();
    sessionStorage.setItem("leap.queue-token.e1", "{not json");
    expect(queueToken("e1", 0)).toBeNull();
  });
});

describe("waitText", () => {
  it("says the wait in words, and that a pause keeps the place", () => {
    expect(waitText(30)).toBe("Less than a minute.");
    expect(waitText(60)).toBe("About 1 minute.");
    expect(waitText(600)).toBe("About 10 minutes.");
    expect(waitText(3 * 3600 + 120)).toBe("About 3 h 2 min.");
    expect(waitText(null)).toMatch(/paused/);
  });
});
