// My events: every event of the organiser (drafts and cancelled ones too) with its date,
// status, tickets sold of capacity and revenue, and links to its console pages.
import { useEffect, useState } from "react";
import { api } from "../../api";
import { Alert } from "../../components/Alert";
import { EventImage } from "../../components/EventImage";
import { Loading, Page } from "../../components/Page";
import { eventDate, money } from "../../format";
import { describe, type Message } from "../../messages";
import { To } from "./ConsoleNav";
import type { ConsoleEvent } from "./types";

export function ConsoleEventsPage() {
  const [rows, setRows] = useState<ConsoleEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<Message | null>(null);
  const load = (cursor: string | null) =>
    api<{ items: ConsoleEvent[]; next_cursor: string | null }>(`/api/admin/events?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
      .then((r) => { setRows((old) => [...(cursor && old ? old : []), ...r.items]); setNext(r.next_cursor); })
      .catch((e) => setError(describe(e)));
  useEffect(() => { void load(null); }, []);
  return (
    <Page title="My events">
      <p><To to="/admin/events/new">Create an event</To></p>
      {error && <Alert message={error} />}
      {!rows && !error && <Loading what="your events" />}
      {rows && rows.length === 0 && <p>No events yet.</p>}
      {rows && rows.length > 0 && (
        <div className="table-scroll">
          <table className="summary console-table">
            <caption className="visually-hidden">Your events</caption>
            <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Date</th><th scope="col">Sold</th><th scope="col">Revenue</th><th scope="col">Manage</th></tr></thead>
            <tbody>
              {rows.map(({ event: ev, capacity, sold, revenue }) => (
                <tr key={ev.id}>
                  <th scope="row"><EventImage url={ev.image_url} sizes="48px" className="thumb" /><To to={`/events/${ev.id}`}>{ev.name}</To></th>
                  <td><span className={`badge badge-${ev.status}`}>{ev.status.replace("_", " ")}</span></td>
                  <td>{eventDate(ev.starts_at, ev.venue.timezone)}</td>
                  <td>{sold} / {capacity}</td>
                  <td>{money(revenue, ev.currency)}</td>
                  <td className="console-links">
                    <To to={`/admin/events/${ev.id}/edit`}>Edit<span className="visually-hidden"> {ev.name}</span></To>
                    <To to={`/admin/events/${ev.id}/dashboard`}>Dashboard<span className="visually-hidden"> of {ev.name}</span></To>
                    <To to={`/admin/events/${ev.id}/orders`}>Orders<span className="visually-hidden"> of {ev.name}</span></To>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && <button type="button" className="secondary" onClick={() => void load(next)}>Show more events</button>}
    </Page>
  );
}
