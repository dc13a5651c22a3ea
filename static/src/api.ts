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
export async function api<T>(path: string, init: { method?: string; body?: unknown; fresh?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Shapes of the API's answers (see /api/openapi.json).
export interface TicketType { id: string; name: string; price: number; currency: string; capacity: number }
export interface Venue { id: string; name: string; city: string; address: string; country: string }
export interface EventInfo {
  id: string; name: string; description: string; category: string; starts_at: string;
  venue: Venue; ticket_types: TicketType[]; currency: string; per_user_limit: number;
  status: string; image_url: string;
}
export interface EventPage { items: EventInfo[]; next_cursor: string | null }
export interface Availability { event_id: string; ticket_types: { id: string; available: number }[] }
export interface Line { ticket_type_id: string; quantity: number; unit_price: number }
export interface Hold {
  hold_id: string; event_id: string; status: string; items: Line[]; total: number;
  currency: string; expires_at: string; order_id: string | null;
  promo_code: string | null; discount: number;
}
export interface Ticket { id: string; ticket_type_id: string; code: string; seat_id: string | null; status?: "valid" | "refunded" }
export interface Order {
  order_id: string; event_id: string; hold_id: string; status: "pending" | "confirmed" | "failed";
  reason: string | null; tickets: Ticket[]; total: number; currency: string; created_at: string;
  refunded?: number;
}
export interface User { user_id: string; email: string; display_name: string; role: string }
export interface Session { token: string; expires_at: string; user: User }
