// The signed-in buyer's orders with their events: upcoming first (soonest first), then past.
import { useEffect, useState } from "react";
import { api, type Order } from "../api";
import { Alert } from "../components/Alert";
import { Loading, Page } from "../components/Page";
import { eventDate, localDate, money } from "../format";
import { describe, type Message } from "../messages";
import { navigate } from "../router";

/** Only images the page's CSP lets in (same origin or inline); others would show broken. */
function showable(url: string): boolean {
  return url.startsWith("/") && !url.startsWith("//");
}

function OrderCard({ o }: { o: Order }) {
  const e = o.event;
  const count = `${o.tickets.length} ticket${o.tickets.length === 1 ? "" : "s"}`;
  return (
    <li>
      <a href={`/orders/${o.order_id}`} onClick={(ev) => { ev.preventDefault(); navigate(`/orders/${o.order_id}`); }}>
        {e && showable(e.image_url) && <img src={e.image_url} alt="" width={96} height={64} className="order-image" />}
        <span className="order-main">
          <strong>{e ? e.name : "Event"}</strong>
          {e && <span><time dateTime={e.starts_at}>{eventDate(e.starts_at, e.timezone)}</time> · {e.venue}, {e.city}</span>}
          <span className="muted">Ordered <time dateTime={o.created_at}>{localDate(o.created_at)}</time> · {count}</span>
        </span>
        <span className="order-side">
          <span className={`badge badge-${o.status}`}>{o.tickets.length > 0 && o.tickets.every((t) => t.status === "refunded") ? "refunded" : o.refunded ? "partly refunded" : o.status}</span>
          <strong>{money(o.total, o.currency)}</strong>
        </span>
      </a>
    </li>
  );
}

export function MyOrdersPage() {
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [error, setError] = useState<Message | null>(null);
  useEffect(() => {
    api<{ items: Order[] }>("/api/me/orders", { fresh: true }).then((r) => setOrders(r.items)).catch((e) => setError(describe(e)));
  }, []);
  const now = Date.now();
  const starts = (o: Order) => (o.event ? Date.parse(o.event.starts_at) : 0);
  const upcoming = (orders ?? []).filter((o) => starts(o) >= now).sort((a, b) => starts(a) - starts(b));
  const past = (orders ?? []).filter((o) => starts(o) < now);
  return (
    <Page title="My orders">
      {error && <Alert message={error} />}
      {!orders && !error && <Loading what="your orders" />}
      {orders && orders.length === 0 && <p>No orders yet. <a href="/" onClick={(e) => { e.preventDefault(); navigate("/"); }}>Find an event</a>.</p>}
      {upcoming.length > 0 && (
        <section aria-labelledby="upcoming">
          <h2 id="upcoming">Upcoming</h2>
          <ul className="orders">{upcoming.map((o) => <OrderCard key={o.order_id} o={o} />)}</ul>
        </section>
      )}
      {past.length > 0 && (
        <section aria-labelledby="past">
          <h2 id="past">Past</h2>
          <ul className="orders">{past.map((o) => <OrderCard key={o.order_id} o={o} />)}</ul>
        </section>
      )}
    </Page>
  );
}
