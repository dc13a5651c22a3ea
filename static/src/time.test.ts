import { describe, expect, it } from "vitest";
import { eventDate, eventTime, knownZone, wallClock, zonedInstant } from "./format";

// The test process runs in whatever zone the machine has; the venue's zone must win anyway.
describe("event times in the venue's zone", () => {
  const berlinEvening = "2027-05-01T17:30:00Z"; // 19:30 in Berlin (CEST, UTC+2)

  it("shows the venue's wall clock and zone, not the viewer's", () => {
    expect(eventTime(berlinEvening, "Europe/Berlin", "en-GB")).toBe("Saturday, 1 May 2027 at 19:30 CEST");
    expect(eventTime(berlinEvening, "Europe/Berlin", "en-US")).toMatch(/07:30\sPM GMT\+2$/);
    expect(eventTime(berlinEvening, "America/New_York", "en-US")).toMatch(/01:30\sPM EDT$/);
  });

  it("puts the year and zone on event cards", () => {
    expect(eventDate(berlinEvening, "Europe/Berlin", "en-GB")).toBe("Sat, 1 May 2027, 19:30 CEST");
    expect(eventDate("2027-12-31T23:30:00Z", "Europe/Lisbon", "en-GB")).toBe("Fri, 31 Dec 2027, 23:30 WET");
  });

  it("falls back to UTC, said out loud, for a zone the browser lacks", () => {
    expect(knownZone("Mars/Olympus")).toBe("UTC");
    expect(knownZone(undefined)).toBe("UTC");
    expect(eventDate(berlinEvening, "Mars/Olympus", "en-GB")).toBe("Sat, 1 May 2027, 17:30 UTC");
  });
});

describe("organiser times: venue wall clock <-> instant", () => {
  it("converts both ways, in summer and winter", () => {
    expect(zonedInstant("2027-05-01T19:30", "Europe/Berlin")).toBe("2027-05-01T17:30:00Z");
    expect(zonedInstant("2027-01-15T19:30", "Europe/Berlin")).toBe("2027-01-15T18:30:00Z");
    expect(zonedInstant("2027-07-10T20:00", "America/New_York")).toBe("2027-07-11T00:00:00Z");
    expect(zonedInstant("2027-07-10T20:00", "Asia/Kolkata")).toBe("2027-07-10T14:30:00Z");
    expect(zonedInstant("2027-07-10T20:00", "UTC")).toBe("2027-07-10T20:00:00Z");
    expect(wallClock("2027-05-01T17:30:00Z", "Europe/Berlin")).toBe("2027-05-01T19:30");
    expect(wallClock("2027-07-11T00:00:00Z", "America/New_York")).toBe("2027-07-10T20:00");
  });

  it("refuses the hour skipped when summer time starts", () => {
    // Berlin: 28 March 2027, 02:00 -> 03:00.
    expect(zonedInstant("2027-03-28T02:30", "Europe/Berlin")).toBeNull();
    expect(zonedInstant("2027-03-28T01:59", "Europe/Berlin")).toBe("2027-03-28T00:59:00Z");
    expect(zonedInstant("2027-03-28T03:00", "Europe/Berlin")).toBe("2027-03-28T01:00:00Z");
  });

  it("takes the first of the hour repeated when summer time ends", () => {
    // Berlin: 31 October 2027, 03:00 -> 02:00; 02:30 happens at 00:30Z and again at 01:30Z.
    expect(zonedInstant("2027-10-31T02:30", "Europe/Berlin")).toBe("2027-10-31T00:30:00Z");
    expect(wallClock("2027-10-31T01:30:00Z", "Europe/Berlin")).toBe("2027-10-31T02:30");
  });

  it("rejects input that is not a wall-clock time", () => {
    expect(zonedInstant("", "Europe/Berlin")).toBeNull();
    expect(zonedInstant("2027-05-01 19:30", "Europe/Berlin")).toBeNull();
  });
});
