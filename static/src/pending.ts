// A buyer's choice on an event page (quantities and promo code), kept in this tab while they
// log in or register from "Log in to buy", so they come back to the tickets they picked.

export interface Pending {
  qty: Record<string, number>;
  promo: string;
}

const key = (eventId: string) => `leap.pending.${eventId}`;

export function savePending(eventId: string, pending: Pending): void {
  try {
    sessionStorage.setItem(key(eventId), JSON.stringify(pending));
  } catch {
    // Storage can be full or disabled (private mode): the buyer picks again, nothing breaks.
  }
}

export function readPending(eventId: string): Pending | null {
  try {
    const raw = JSON.parse(sessionStorage.getItem(key(eventId)) ?? "null") as unknown;
    if (!raw || typeof raw !== "object") return null;
    const { qty, promo } = raw as Partial<Pending>;
    const clean = Object.fromEntries(Object.entries(qty ?? {}).filter(([, n]) => Number.isInteger(n) && n > 0));
    return { qty: clean, promo: typeof promo === "string" ? promo : "" };
  } catch {
    return null;
  }
}

export function clearPending(eventId: string): void {
  try {
    sessionStorage.removeItem(key(eventId));
  } catch {
    // nothing to clear
  }
}
