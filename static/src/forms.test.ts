import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "./api";
import { describe as explain, fieldLabel, fieldMessage, fieldText, withoutField } from "./messages";
import { policyText } from "./password";
import { clearPending, readPending, savePending } from "./pending";

const invalid = (field: string, detail: string) =>
  new ApiError({ type: "/problems/invalid-input", title: "Invalid input", status: 422, detail, field });

describe("password policy text", () => {
  it("states the server's numbers and refusals", () => {
    const text = policyText({ min_length: 10, max_length: 128, min_distinct: 4, rejects_common: true, rejects_email_name: true });
    expect(text).toBe("At least 10 characters (at most 128), using at least 4 different characters. " +
      "Not allowed: very common passwords or passwords containing the first part of your email.");
  });

  it("follows a changed policy (no second copy of the rules)", () => {
    const text = policyText({ min_length: 14, max_length: 64, min_distinct: 1, rejects_common: false, rejects_email_name: false });
    expect(text).toBe("At least 14 characters (at most 64).");
  });
});

describe("field errors", () => {
  it("drop the raw field prefix the API puts first", () => {
    expect(withoutField(invalid("password", "password: password must have at least 10 characters")))
      .toBe("Password must have at least 10 characters");
    expect(explain(invalid("promo_code", "promo_code: String should match pattern")).text)
      .toBe("String should match pattern");
  });

  it("keep the next step of a refusal that is not bad input", () => {
    const taken = new ApiError({ type: "/problems/email-taken", title: "t", status: 409, detail: "an account with this email exists", field: "email" });
    expect(fieldText(taken)).toBe("An account with this email already exists. Log in instead.");
    expect(fieldText(invalid("promo_code", "promo_code: this promo code does not exist for this event")))
      .toBe("This promo code does not exist for this event");
  });

  it("name fields as the form labels them", () => {
    expect(fieldLabel("per_user_limit")).toBe("Tickets per buyer");
    expect(fieldLabel("ticket_types[1].price")).toBe("Ticket type 2, price");
    expect(fieldLabel("venue.timezone")).toBe("Time zone");
    expect(fieldMessage(invalid("venue.timezone", "venue.timezone: Value error, must be an IANA time zone")).text)
      .toBe("Time zone: value error, must be an IANA time zone");
  });
});

describe("choice kept across logging in", () => {
  afterEach(() => sessionStorage.clear());

  it("round-trips quantities and promo, dropping junk", () => {
    savePending("e1", { qty: { a: 2, b: 0 }, promo: "SPRING" });
    expect(readPending("e1")).toEqual({ qty: { a: 2 }, promo: "SPRING" });
    expect(readPending("e2")).toBeNull();
    clearPending("e1");
    expect(readPending("e1")).toBeNull();
    sessionStorage.setItem("leap.pending.e3", "{not json");
    expect(readPending("e3")).toBeNull();
  });
});
