// The signed-in buyer's orders, newest first.
import { useEffect, useState } from "react";
import { api, type Order } from "../api";
import { Alert } from "../components/Alert";
import { Loading, Page } from "../components/Page";
import { money, shortDate } from "../format";
import { describe, type Message } from "../messages";
import { navigate } from "../router";

export function MyOrdersPage() {
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [error, setError] = useState<Message | null>(null);
  useEffect(() => {
    api<{ items: Order[] }>("/api/me/orders").then((r) => setOrders(r.items)).catch((e) => setError(describe(e)));
  }, []);
  return (
    <Page title="My orders">
      {error && <Alert message={error} />}
      {!orders && !error && <Loading what="your orders" />}
      {orders && orders.length === 0 && <p>No orders yet. <a href="/" onClick={(e) => { e.preventDefault(); navigate("/"); }}>Find an event</a>.</p>}
      {orders && orders.length > 0 && (
        <ul className="orders">
          {orders.map((o) => (
            <li key={o.order_id}>
              <a href={`/orders/${o.order_id}`} onClick={(e) => { e.preventDefault(); navigate(`/orders/${o.order_id}`); }}>
                <span className={`badge badge-${o.status}`}>{o.tickets.length > 0 && o.tickets.every((t) => t.status === "refunded") ? "refunded" : o.refunded ? "partly refunded" : o.status}</span>
                <span>{shortDate(o.created_at)}</span>
                <span>{o.tickets.length} ticket{o.tickets.length === 1 ? "" : "s"}</span>
                <strong>{money(o.total, o.currency)}</strong>
              </a>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
