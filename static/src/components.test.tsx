import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "./api";
import { BusyNotice } from "./components/BusyNotice";
import { Countdown } from "./components/Countdown";
import { QuantityPicker } from "./components/QuantityPicker";
import { TicketQr } from "./components/TicketQr";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("QuantityPicker", () => {
  it("clamps to 0..max and labels its controls", () => {
    const onChange = vi.fn();
    render(<QuantityPicker id="q" label="VIP" value={2} max={2} onChange={onChange} />);
    expect(screen.getByLabelText("More VIP tickets")).toHaveProperty("disabled", true);
    fireEvent.click(screen.getByLabelText("Fewer VIP tickets"));
    expect(onChange).toHaveBeenLastCalledWith(1);
    fireEvent.change(screen.getByLabelText("VIP quantity"), { target: { value: "9" } });
    expect(onChange).toHaveBeenLastCalledWith(2);
  });
});

describe("Countdown", () => {
  it("ticks down and reports expiry once", () => {
    vi.useFakeTimers();
    const onExpire = vi.fn();
    render(<Countdown until={new Date(Date.now() + 2000).toISOString()} onExpire={onExpire} />);
    expect(screen.getByText("0:02")).toBeTruthy();
    act(() => { vi.advanceTimersByTime(3000); });
    expect(screen.getByText("0:00")).toBeTruthy();
    expect(onExpire).toHaveBeenCalledTimes(1);
  });
});

describe("TicketQr", () => {
  it("renders a QR image described by the ticket type, with the code and state", async () => {
    render(<TicketQr code="LT1.t.e.ABCD2345EFGH6789JKLMNP" label="VIP" state="checked_in" />);
    const img = await waitFor(() => screen.getByAltText("QR code for ticket (VIP)"));
    expect(img.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
    expect(screen.getByText("LT1.t.e.ABCD2345EFGH6789JKLMNP")).toBeTruthy();
    expect(screen.getByText("Checked in")).toBeTruthy();
  });
});

describe("BusyNotice", () => {
  it("appears while answers carry Leap-Degraded, ignores older cached answers, goes away after", async () => {
    const answer = (degraded: boolean, date: string) =>
      new Response("{}", { status: 200, headers: { date, ...(degraded ? { "leap-degraded": "redis" } : {}) } });
    const fetchMock = vi.fn()
      .mockResolvedValueOnce(answer(true, "Wed, 25 Nov 2026 09:00:05 GMT"))
      .mockResolvedValueOnce(answer(false, "Wed, 25 Nov 2026 09:00:01 GMT")) // a cached copy
      .mockResolvedValueOnce(answer(false, "Wed, 25 Nov 2026 09:00:09 GMT"));
    vi.stubGlobal("fetch", fetchMock);
    render(<BusyNotice />);
    expect(screen.queryByText("Busy but selling")).toBeNull();
    await act(async () => { await api("/api/events"); });
    expect(screen.getByRole("status").textContent).toContain("Busy but selling");
    await act(async () => { await api("/api/events"); });
    expect(screen.getByRole("status").textContent).toContain("Busy but selling");
    await act(async () => { await api("/api/events"); });
    expect(screen.queryByText("Busy but selling")).toBeNull();
    vi.unstubAllGlobals();
  });
});
