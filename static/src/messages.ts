// What a buyer reads when something goes wrong, and what they can do about it.
import { ApiError, NetworkError } from "./api";

export interface Message {
  text: string;
  next?: string;
}

const BY_CODE: Record<string, (e: ApiError) => Message> = {
  "sold-out": () => ({
    text: "Sold out: there aren't enough tickets of that type left.",
    next: "Choose fewer tickets or another ticket type. Tickets come back when other holds expire.",
  }),
  "per-user-limit": (e) => ({ text: e.message, next: "Lower the quantities to stay within the limit." }),
  "queue-required": () => ({
    text: "Tickets for this event are sold through a waiting room.",
    next: "Join the queue; you can buy when it's your turn.",
  }),
  "not-on-sale": () => ({ text: "This event is not on sale right now." }),
  conflict: (e) => ({ text: e.message, next: e.field === "promo_code" ? "Remove the promo code to buy at the full price." : undefined }),
  "hold-expired": () => ({
    text: "Your hold expired, so its tickets were released.",
    next: "Go back to the event and hold tickets again.",
  }),
  "hold-not-active": (e) => ({ text: `This hold is no longer active (${e.message}).`, next: "Go back to the event to start again." }),
  "payment-in-progress": () => ({ text: "Your payment is being processed; this hold can't be cancelled now." }),
  "not-found": () => ({ text: "We couldn't find that. It may have been removed, or it belongs to another account." }),
  unauthorized: () => ({ text: "Please log in to continue." }),
  "email-taken": () => ({ text: "An account with this email already exists.", next: "Log in instead." }),
  "invalid-input": (e) => ({ text: withoutField(e) }),
  "dependency-unavailable": () => ({
    text: "The shop is very busy right now.",
    next: "Wait a moment and try again; nothing was charged.",
  }),
};

/**
 * The server names the field first in ``detail`` ("password: password must have ...") for
 * API clients; a form shows the message next to the field, so the prefix goes.
 */
export function withoutField(e: ApiError): string {
  const text = e.field && e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const LABELS: Record<string, string> = {
  name: "Name", description: "Description", category: "Category", starts_at: "Starts at",
  currency: "Currency", per_user_limit: "Tickets per buyer", venue: "Venue", venue_id: "Venue",
  "venue.name": "Venue name", "venue.city": "City", "venue.address": "Address",
  "venue.country": "Country", "venue.timezone": "Time zone", ticket_types: "Ticket types",
  price: "Price", capacity: "Capacity", promo_code: "Promo code",
  email: "Email", password: "Password", display_name: "Your name",
};

/** "ticket_types[1].price" -> "Ticket type 2, price": how a form names a field it shows. */
export function fieldLabel(field: string): string {
  const m = /^ticket_types\[(\d+)\](?:\.(\w+))?$/.exec(field);
  if (m) return `Ticket type ${Number(m[1]) + 1}${m[2] ? `, ${(LABELS[m[2]] ?? m[2]).toLowerCase()}` : ""}`;
  return LABELS[field] ?? field.replace(/[._]/g, " ");
}

/** A field's error shown at the field: the server's words for bad input, else the buyer message. */
export function fieldText(e: ApiError): string {
  if (e.status === 422) return withoutField(e);
  const m = describe(e);
  return [m.text, m.next].filter(Boolean).join(" ");
}

/** A field's error for a form-level alert: "Tickets per buyer: must be at most 50". */
export function fieldMessage(e: ApiError): Message {
  if (!e.field) return describe(e);
  const text = e.status === 422 ? withoutField(e) : describe(e).text;
  return { text: `${fieldLabel(e.field)}: ${text.charAt(0).toLowerCase()}${text.slice(1)}` };
}

export function describe(error: unknown): Message {
  if (error instanceof NetworkError) {
    return { text: "You seem to be offline.", next: "Check your connection and try again." };
  }
  if (error instanceof ApiError) {
    if (error.status === 429) {
      const wait = error.retryAfter ? ` in ${error.retryAfter} seconds` : " in a moment";
      return { text: "Too many requests.", next: `Please try again${wait}.` };
    }
    const byCode = BY_CODE[error.code];
    if (byCode) return byCode(error);
    if (error.status >= 500) return { text: "Something went wrong on our side.", next: "Please try again." };
    return { text: error.message };
  }
  return { text: "Something unexpected happened.", next: "Reload the page and try again." };
}

export function orderFailure(reason: string | null): Message {
  switch (reason) {
    case "payment_declined":
      return { text: "Your card was declined, so your tickets were released.", next: "Go back to the event to try again with another card." };
    case "sold_out":
      return { text: "The last tickets sold out while your payment was processed. Your payment was refunded.", next: "Check the event for other ticket types." };
    case "payment_error":
      return { text: "We couldn't reach the payment processor. Any charge was refunded and your tickets were released.", next: "Please try again in a few minutes." };
    case "payment_timeout":
      return { text: "Your payment didn't complete in time. Any charge was refunded.", next: "Go back to the event to try again." };
    case "hold_expired":
      return { text: "Your hold expired before the payment started. You were not charged.", next: "Go back to the event to try again." };
    default:
      return { text: "Your order could not be completed.", next: "Go back to the event to try again." };
  }
}
