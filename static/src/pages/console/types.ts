// Shapes of the organiser console's API answers (see /api/openapi.json, tag "console").
import type { EventInfo, Order } from "../../api";

export interface ConsoleEvent { event: EventInfo; capacity: number; sold: number; revenue: number; orders: number }
export interface TypeFigures { id: string; name: string; price: number; capacity: number; sold: number; held: number; available: number; revenue: number; waiting?: number }
export interface SalesPoint { minute: string; tickets: number; revenue: number }
export interface PromoUse { code: string; uses: number; max_uses: number; active: boolean }
export interface Dashboard {
  event_id: string; name: string; status: string; currency: string; ticket_types: TypeFigures[];
  capacity: number; sold: number; held: number; available: number; revenue: number; orders: number;
  sales: SalesPoint[]; promo_codes: PromoUse[];
}
export interface OrderRow {
  order_id: string; email: string; status: string; tickets: number; refunded_tickets: number;
  total: number; refunded: number; currency: string; created_at: string;
}
export interface Refund { refund_id: string; amount: number; currency: string; status: string; ticket_ids: string[]; created_at: string }
export interface OrderDetail { order: Order; email: string; refunds: Refund[] }
export interface Offer {
  code: string; kind: "percent" | "amount"; value: number; valid_from: string | null; valid_to: string | null;
  max_uses: number; active: boolean; uses: number;
}
export interface AuditEntry { id: string; at: string; actor_id: string; action: string; target: string; detail: Record<string, unknown> }
