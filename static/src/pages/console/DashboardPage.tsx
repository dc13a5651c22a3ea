// An event's live sales: per ticket type capacity, sold, held right now, available and
// revenue; totals; sales per minute; promo code uses. Refreshed every 3 seconds while the
// page is visible. Sold comes from the ledger; held and available from live inventory.
import { useEffect, useState } from "react";
import { api } from "../../api";
import { Alert } from "../../components/Alert";
import { Loading, Page } from "../../components/Page";
import { money, localDate } from "../../format";
import { describe, type Message } from "../../messages";
import { ConsoleNav } from "./ConsoleNav";
import { SalesChart } from "./SalesChart";
import type { Dashboard } from "./types";

export function DashboardPage({ eventId }: { eventId: string }) {
  const [d, setD] = useState<Dashboard | null>(null);
  const [error, setError] = useState<Message | null>(null);
  useEffect(() => {
    let stop = false;
    const tick = () => {
      if (document.visibilityState === "hidden") return;
      api<Dashboard>(`/api/admin/events/${eventId}/dashboard`, { fresh: true })
        .then((r) => { if (!stop) { setD(r); setError(null); } })
        .catch((e) => { if (!stop) setError(describe(e)); });
    };
    tick();
    const timer = window.setInterval(tick, 3000);
    return () => { stop = true; window.clearInterval(timer); };
  }, [eventId]);
  return (
    <Page title={d ? `Dashboard: ${d.name}` : "Dashboard"}>
      <ConsoleNav eventId={eventId} here="dashboard" />
      {error && <Alert message={error} />}
      {!d && !error && <Loading what="the sales figures" />}
      {d && (
        <>
          <p className="muted">Status: {d.status.replace("_", " ")} · refreshed every 3 seconds</p>
          <dl className="totals" aria-live="polite">
            <div><dt>Sold</dt><dd data-testid="total-sold">{d.sold}</dd></div>
            <div><dt>Held now</dt><dd data-testid="total-held">{d.held}</dd></div>
            <div><dt>Available</dt><dd data-testid="total-available">{d.available}</dd></div>
            <div><dt>Capacity</dt><dd>{d.capacity}</dd></div>
            <div><dt>Revenue</dt><dd>{money(d.revenue, d.currency)}</dd></div>
            <div><dt>Orders</dt><dd>{d.orders}</dd></div>
          </dl>
          <div className="table-scroll">
            <table className="summary">
              <caption className="visually-hidden">Sales per ticket type</caption>
              <thead><tr><th scope="col">Ticket type</th><th scope="col">Capacity</th><th scope="col">Sold</th><th scope="col">Held</th><th scope="col">Available</th><th scope="col">Waiting list</th><th scope="col">Revenue (list price)</th></tr></thead>
              <tbody>
                {d.ticket_types.map((t) => (
                  <tr key={t.id}>
                    <th scope="row">{t.name}</th><td>{t.capacity}</td><td>{t.sold}</td><td>{t.held}</td><td>{t.available}</td><td>{t.waiting ?? 0}</td><td>{money(t.revenue, d.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h2>Sales over time</h2>
          {d.sales.length === 0 ? <p className="muted">No sales yet.</p> : (
            <>
              <SalesChart points={d.sales} />
              <details>
                <summary>Sales per minute as a table</summary>
                <table className="summary">
                  <thead><tr><th scope="col">Minute</th><th scope="col">Tickets</th><th scope="col">Revenue</th></tr></thead>
                  <tbody>{d.sales.map((p) => <tr key={p.minute}><td>{localDate(p.minute)}</td><td>{p.tickets}</td><td>{money(p.revenue, d.currency)}</td></tr>)}</tbody>
                </table>
              </details>
            </>
          )}
          <h2>Promo codes</h2>
          {d.promo_codes.length === 0 ? <p className="muted">No promo codes.</p> : (
            <ul>
              {d.promo_codes.map((p) => <li key={p.code}><strong>{p.code}</strong>: {p.uses} used{p.max_uses ? ` of ${p.max_uses}` : ""}{p.active ? "" : " (inactive)"}</li>)}
            </ul>
          )}
        </>
      )}
    </Page>
  );
}
