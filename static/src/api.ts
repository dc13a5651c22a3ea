// The API client: JSON over /api with a bearer token. Every failure becomes an ApiError
// (the server's problem+json) or a NetworkError (no answer at all), so pages can tell a
// buyer what happened and what to do next.

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly retryAfter?: number;

  constructor(problem: Problem, retryAfter?: number) {
    super(problem.detail || problem.title);
    this.status = problem.status;
    this.code = problem.type.split("/").pop() ?? "error";
    this.field = problem.field;
    this.retryAfter = retryAfter;
  }
}

export class NetworkError extends Error {}

// Degraded mode: while the server's Redis is down it sells from SQL, a little slower, and
// marks every answer with the Leap-Degraded header. BusyNotice shows it to buyers.
let degraded = false;
let degradedAt = 0; // server Date of the answer that last set the flag
const degradedListeners = new Set<() => void>();

export function isDegraded(): boolean {
  return degraded;
}

export function subscribeDegraded(listener: () => void): () => void {
  degradedListeners.add(listener);
  return () => degradedListeners.delete(listener);
}

function noteDegraded(response: Response): void {
  const now = response.headers.get("leap-degraded") !== null;
  // Catalog answers are cacheable: a copy from before the outage (an older Date) must not
  // clear the flag. Dates have 1 s resolution, so clearing needs a strictly newer one.
  const date = Date.parse(response.headers.get("date") ?? "");
  const at = Number.isNaN(date) ? Date.now() : date;
  if (at < degradedAt || (at === degradedAt && !now)) return;
  degradedAt = at;
  if (now !== degraded) {
    degraded = now;
    degradedListeners.forEach((listener) => listener());
  }
}

let token: string | null = null;
let onUnauthorized: () => void = () => {};

export function setToken(value: string | null): void {
  token = value;
}

/** The session's bearer token, for requests ``api`` cannot make (a CSV download). */
export function getToken(): string | null {
  return token;
}

export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** ``fresh`` revalidates instead of using a cached copy (catalog answers are cacheable). */
export async function api<T>(path: string, init: { method?: string; body?: unknown; fresh?: boolean; headers?: Record<string, string> } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      cache: init.fresh ? "no-cache" : "default",
    });
  } catch {
    throw new NetworkError("network unreachable");
  }
  noteDegraded(response);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data: unknown = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const problem: Problem =
      data && typeof data === "object" && "status" in data
        ? (data as Problem)
        : { type: `/problems/http-${response.status}`, title: response.statusText, status: response.status, detail: "" };
    if (response.status === 401 && token) onUnauthorized();
    const retry = Number(response.headers.get("retry-after"));
    throw new ApiError(problem, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  return data as T;
}

/** Save a file the API answers (it needs the bearer token, so a plain link can't fetch it). */
export async function download(path: string, filename: string): Promise<void> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(path, { headers });
  } catch {
    throw new NetworkError("network unreachable");
  }
  if (!response.ok) {
    const data = safeJson(await response.text());
    const problem: Problem = data && typeof data === "object" && "status" in data
      ? (data as Problem)
      : { type: `/problems/http-${response.status}`, title: response.statusText, status: response.status, detail: "" };
    throw new ApiError(problem);
  }
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000); // after the save has started
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Shapes of the API's answers (see /api/openapi.json).
export interface TicketType { id: string; name: string; price: number; currency: string; capacity: number }
export interface Venue { id: string; name: string; city: string; address: string; country: string; timezone: string }
export interface EventInfo {
  id: string; name: string; description: string; category: string; starts_at: string;
  venue: Venue; ticket_types: TicketType[]; currency: string; per_user_limit: number;
  status: string; image_url: string;
  queue?: { enabled: boolean; opens_at: string; admit_per_minute: number } | null;
}
export interface EventPage { items: EventInfo[]; next_cursor: string | null }
export interface Availability { event_id: string; ticket_types: { id: string; available: number; waiting?: number }[] }
export interface WaitlistEntry {
  entry_id: string; event_id: string; ticket_type_id: string; quantity: number;
  status: "waiting" | "offered" | "purchased" | "expired" | "declined" | "left" | "lapsed";
  place: number | null; joined_at: string; hold_id: string | null;
  offer_expires_at: string | null; order_id: string | null;
}
export interface Waitlist { event_id: string; entries: WaitlistEntry[]; waiting: Record<string, number> }
export interface Line { ticket_type_id: string; quantity: number; unit_price: number }
export interface Hold {
  hold_id: string; event_id: string; status: string; items: Line[]; total: number;
  currency: string; expires_at: string; order_id: string | null;
  promo_code: string | null; discount: number;
}
export interface Ticket {
  id: string; ticket_type_id: string; code: string; reference: string;
  state: "valid" | "checked_in" | "refunded"; checked_in_at: string | null; seat_id: string | null;
  status?: "valid" | "refunded";  // "refunded": the organiser refunded this ticket
}
export interface OrderEvent {
  id: string; name: string; starts_at: string; venue: string; city: string; address: string;
  timezone: string; image_url: string;
}
export interface Order {
  order_id: string; event_id: string; hold_id: string; status: "pending" | "confirmed" | "failed";
  reason: string | null; tickets: Ticket[]; total: number; currency: string; created_at: string;
  event?: OrderEvent | null;
  refunded?: number;  // minor units returned to the buyer
}
export interface User { user_id: string; email: string; display_name: string; role: string }
export interface Session { token: string; expires_at: string; user: User }
export interface QueuePlace {
  event_id: string; state: "open" | "none" | "pre_queue" | "queued" | "admitted" | "expired";
  opens_at: string | null; place: number | null; ahead: number | null; total: number;
  admitted: number; admit_per_minute: number; paused: boolean;
  expected_wait_seconds: number | null; token: string | null; token_expires_at: string | null;
}
export interface QueueStats {
  event_id: string; enabled: boolean; opens_at: string; admit_per_minute: number; opened: boolean;
  paused: boolean; admitted: number; waiting: number; expected_wait_seconds: number | null;
}

// Door check-in (staff granted per event by an organiser).
export type ScanResult = "admitted" | "already_checked_in" | "refunded" | "wrong_event" | "forged" | "unknown_ticket";
export interface Scan {
  result: ScanResult; admitted: boolean; ticket_id: string | null; event_id: string | null;
  ticket_type_id: string | null; checked_in_at: string | null; checked_in_by: string | null;
}
export interface DoorCounts { checked_in: number; tickets: number }
export interface DoorEvent { id: string; name: string; starts_at: string; venue: string; timezone: string }
export interface StaffMember { user_id: string; email: string; display_name: string; granted_at: string }
