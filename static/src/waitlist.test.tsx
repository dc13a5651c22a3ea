import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EventInfo, Waitlist, WaitlistEntry } from "./api";
import { WaitlistPanel } from "./components/WaitlistPanel";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const event: EventInfo = {
  id: "e1", name: "Night", description: "", category: "music", starts_at: "2027-05-01T19:00:00Z",
  venue: { id: "v", name: "Hall", city: "Porto", address: "", country: "Portugal", timezone: "Europe/Lisbon" },
  ticket_types: [{ id: "ga", name: "Standing", price: 2500, currency: "EUR", capacity: 1 }],
  currency: "EUR", per_user_limit: 4, status: "on_sale", image_url: "",
};

function serve(entries: Partial<WaitlistEntry>[]) {
  const body: Waitlist = {
    event_id: "e1", waiting: { ga: entries.length },
    entries: entries.map((e) => ({
      entry_id: "e1.x", event_id: "e1", ticket_type_id: "ga", quantity: 2, status: "waiting",
      place: null, joined_at: "2026-11-25T12:00:00Z", hold_id: null, offer_expires_at: null,
      order_id: null, ...e,
    })),
  };
  vi.stubGlobal("fetch", vi.fn().mockResolvedValue(
    new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } })));
}

describe("WaitlistPanel", () => {
  it("offers to join a sold-out type", async () => {
    serve([]);
    render(<WaitlistPanel event={event} soldOut={["ga"]} signedIn onChange={() => {}} />);
    expect(await screen.findByRole("button", { name: "Join the waiting list" })).toBeTruthy();
    expect(screen.getByLabelText("Standing waiting-list quantity")).toHaveProperty("value", "1");
  });

  it("shows the buyer's place and a way to leave", async () => {
    serve([{ place: 3 }]);
    render(<WaitlistPanel event={event} soldOut={["ga"]} signedIn onChange={() => {}} />);
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe(
      "You are #3 in line for Standing (2 tickets)."));
    expect(screen.getByRole("button", { name: "Leave the waiting list" })).toBeTruthy();
  });

  it("shows an offer with the time in the venue's zone and a link to buy", async () => {
    serve([{ status: "offered", hold_id: "e1.h", offer_expires_at: "2026-11-25T12:15:00Z" }]);
    render(<WaitlistPanel event={event} soldOut={[]} signedIn onChange={() => {}} />);
    await waitFor(() => expect(screen.getByRole("status").textContent).toContain(
      "Tickets are held for you until 12:15:00 WET"));
    expect(screen.getByRole("link", { name: "Buy now" }).getAttribute("href")).toBe("/holds/e1.h");
  });

  it("asks a visitor to log in", () => {
    render(<WaitlistPanel event={event} soldOut={["ga"]} signedIn={false} onChange={() => {}} />);
    expect(screen.getByRole("button", { name: "Log in to join the waiting list" })).toBeTruthy();
  });
});
