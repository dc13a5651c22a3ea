// An event's orders, newest first: search by buyer email or order id, more pages on demand
// (keyset cursor), and a CSV export of every order (streamed by the server).
import { useEffect, useState, type FormEvent } from "react";
import { api, getToken } from "../../api";
import { Alert } from "../../components/Alert";
import { Loading, Page } from "../../components/Page";
import { money, localDate } from "../../format";
import { describe, type Message } from "../../messages";
import { ConsoleNav, To } from "./ConsoleNav";
import type { OrderRow } from "./types";

export function OrdersPage({ eventId }: { eventId: string }) {
  const [q, setQ] = useState("");
  const [rows, setRows] = useState<OrderRow[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<Message | null>(null);
  const [exporting, setExporting] = useState(false);
  const load = (query: string, cursor: string | null) => {
    const params = new URLSearchParams({ limit: "50", q: query });
    if (cursor) params.set("cursor", cursor);
    return api<{ items: OrderRow[]; next_cursor: string | null }>(`/api/admin/events/${eventId}/orders?${params}`, { fresh: true })
      .then((r) => { setRows((old) => [...(cursor && old ? old : []), ...r.items]); setNext(r.next_cursor); setError(null); })
      .catch((e) => setError(describe(e)));
  };
  useEffect(() => { void load("", null); }, [eventId]);
  const search = (e: FormEvent) => { e.preventDefault(); setRows(null); void load(q, null); };
  const exportCsv = async () => {
    // The API wants a bearer token, which a plain link cannot send: fetch, then save.
    setExporting(true);
    try {
      const token = getToken();
      const r = await fetch(`/api/admin/events/${eventId}/orders.csv`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      if (!r.ok) throw new Error(`export failed (${r.status})`);
      const url = URL.createObjectURL(await r.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = `orders-${eventId}.csv`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setError(describe(e));
    } finally {
      setExporting(false);
    }
  };
  return (
    <Page title="Orders">
      <ConsoleNav eventId={eventId} here="orders" />
      <form className="filters" role="search" onSubmit={search}>
        <label>Buyer email or order id<input value={q} onChange={(e) => setQ(e.target.value)} /></label>
        <button type="submit">Search orders</button>
        <button type="button" className="secondary" disabled={exporting} onClick={() => void exportCsv()}>{exporting ? "Exporting…" : "Export CSV"}</button>
      </form>
      {error && <Alert message={error} />}
      {!rows && !error && <Loading what="the orders" />}
      {rows && rows.length === 0 && <p>No orders match.</p>}
      {rows && rows.length > 0 && (
        <div className="table-scroll">
          <table className="summary">
            <caption className="visually-hidden">Orders</caption>
            <thead><tr><th scope="col">Order</th><th scope="col">Buyer</th><th scope="col">Status</th><th scope="col">Tickets</th><th scope="col">Total</th><th scope="col">Time</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.order_id}>
                  <th scope="row"><To to={`/admin/orders/${r.order_id}`}>{r.order_id.slice(-10)}</To></th>
                  <td>{r.email}</td>
                  <td><span className={`badge badge-${r.status}`}>{r.refunded_tickets && r.refunded_tickets === r.tickets ? "refunded" : r.status}</span></td>
                  <td>{r.tickets}{r.refunded_tickets ? ` (${r.refunded_tickets} refunded)` : ""}</td>
                  <td>{money(r.total, r.currency)}{r.refunded ? ` (−${money(r.refunded, r.currency)})` : ""}</td>
                  <td>{localDate(r.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && <button type="button" className="secondary" onClick={() => void load(q, next)}>Show more orders</button>}
    </Page>
  );
}
