// One order as the organiser sees it: buyer, tickets (valid or refunded), refunds; cancel
// and refund the whole order or a single ticket. The tickets go back on sale.
import { useEffect, useState } from "react";
import { api } from "../../api";
import { Alert } from "../../components/Alert";
import { Loading, Page } from "../../components/Page";
import { money, localDate } from "../../format";
import { describe, type Message } from "../../messages";
import { ConsoleNav } from "./ConsoleNav";
import type { OrderDetail } from "./types";

export function ConsoleOrderPage({ orderId }: { orderId: string }) {
  const [d, setD] = useState<OrderDetail | null>(null);
  const [error, setError] = useState<Message | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api<OrderDetail>(`/api/admin/orders/${orderId}`, { fresh: true }).then(setD).catch((e) => setError(describe(e)));
  }, [orderId]);
  const refund = async (ticketIds?: string[]) => {
    const what = ticketIds ? "this ticket" : "every ticket of this order";
    if (!window.confirm(`Cancel and refund ${what}? The buyer gets the money back and the tickets stop being valid.`)) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api<OrderDetail>(`/api/admin/orders/${orderId}/refunds`, { method: "POST", body: ticketIds ? { ticket_ids: ticketIds } : {} });
      setD(r);
      const last = r.refunds[r.refunds.length - 1];
      setNotice(last ? `Refunded ${money(r.order.refunded ?? 0, r.order.currency)} in total; the tickets are back on sale.` : "Nothing left to refund.");
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  };
  const o = d?.order;
  const valid = o ? o.tickets.filter((t) => t.status !== "refunded") : [];
  return (
    <Page title="Order">
      {o && <ConsoleNav eventId={o.event_id} here="orders" />}
      {error && <Alert message={error} />}
      {notice && <p role="status" className="alert alert-info">{notice}</p>}
      {!d && !error && <Loading what="the order" />}
      {d && o && (
        <>
          <dl className="order-facts">
            <dt>Order</dt><dd>{o.order_id}</dd>
            <dt>Buyer</dt><dd>{d.email}</dd>
            <dt>Status</dt><dd>{o.status}{o.refunded ? `, ${money(o.refunded, o.currency)} refunded` : ""}</dd>
            <dt>Total</dt><dd>{money(o.total, o.currency)}</dd>
            <dt>Placed</dt><dd>{localDate(o.created_at)}</dd>
          </dl>
          <h2>Tickets</h2>
          <ul className="ticket-types">
            {o.tickets.map((t) => (
              <li key={t.id}>
                <div><strong>{t.code}</strong><span className="muted">{t.status === "refunded" ? "Refunded: no longer valid" : "Valid"}</span></div>
                {o.status === "confirmed" && t.status !== "refunded" && valid.length > 1 && (
                  <button type="button" className="secondary" disabled={busy} onClick={() => void refund([t.id])}>Refund ticket<span className="visually-hidden"> {t.code}</span></button>
                )}
              </li>
            ))}
          </ul>
          {o.status === "confirmed" && valid.length > 0 && (
            <button type="button" disabled={busy} onClick={() => void refund()}>{busy ? "Refunding…" : "Cancel and refund order"}</button>
          )}
          <h2>Refunds</h2>
          {d.refunds.length === 0 ? <p className="muted">None.</p> : (
            <ul>{d.refunds.map((r) => <li key={r.refund_id}>{localDate(r.created_at)}: {money(r.amount, r.currency)} for {r.ticket_ids.length} ticket{r.ticket_ids.length === 1 ? "" : "s"} ({r.status === "done" ? "completed" : r.status})</li>)}</ul>
          )}
        </>
      )}
    </Page>
  );
}
