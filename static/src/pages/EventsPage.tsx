// The event list: search, city and date filters, and "more" paging by cursor.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type EventInfo, type EventPage } from "../api";
import { Alert } from "../components/Alert";
import { EventImage } from "../components/EventImage";
import { Loading, Page } from "../components/Page";
import { eventDate, money } from "../format";
import { describe, type Message } from "../messages";
import { navigate } from "../router";

function query(params: Record<string, string>): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  return q.toString();
}

export function EventsPage({ search }: { search: URLSearchParams }) {
  const [form, setForm] = useState({ q: search.get("q") ?? "", city: search.get("city") ?? "", from: search.get("from") ?? "", to: search.get("to") ?? "" });
  const [events, setEvents] = useState<EventInfo[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<Message | null>(null);

  const filters = search.toString();
  const fetchPage = useCallback(async (after: string | null) => {
    const params = Object.fromEntries(new URLSearchParams(filters));
    for (const k of ["from", "to"]) if (params[k]) params[k] = new Date(params[k]).toISOString();
    const page = await api<EventPage>(`/api/events?${query({ ...params, limit: "12", cursor: after ?? "" })}`);
    return page;
  }, [filters]);

  useEffect(() => {
    let live = true;
    setEvents(null);
    setError(null);
    fetchPage(null)
      .then((page) => {
        if (!live) return;
        setEvents(page.items);
        setCursor(page.next_cursor);
      })
      .catch((e) => live && setError(describe(e)));
    return () => {
      live = false;
    };
  }, [fetchPage]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(`/?${query(form)}`);
  };

  const more = async () => {
    try {
      const page = await fetchPage(cursor);
      setEvents((prev) => [...(prev ?? []), ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(describe(e));
    }
  };

  return (
    <Page title="Upcoming events">
      <form className="filters" role="search" onSubmit={submit}>
        <label>
          Search
          <input type="search" name="q" value={form.q} placeholder="Artist, team, show…" onChange={(e) => setForm({ ...form, q: e.target.value })} />
        </label>
        <label>
          City
          <input name="city" value={form.city} onChange={(e) => setForm({ ...form, city: e.target.value })} />
        </label>
        <label>
          From
          <input type="date" name="from" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} />
        </label>
        <label>
          To
          <input type="date" name="to" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} />
        </label>
        <button type="submit">Find events</button>
      </form>
      {error && <Alert message={error}><button type="button" onClick={() => navigate(`/?${filters}`, true)}>Try again</button></Alert>}
      {!events && !error && <Loading what="events" />}
      {events && events.length === 0 && <p>No events match. Try another search or clear the filters.</p>}
      {events && events.length > 0 && (
        <ul className="event-grid">
          {events.map((ev) => (
            <li key={ev.id} className="event-card">
              <a href={`/events/${ev.id}`} onClick={(e) => { e.preventDefault(); navigate(`/events/${ev.id}`); }}>
                <EventImage url={ev.image_url} sizes="(max-width: 600px) 100vw, 300px" className="event-card-image" />
                <span className="event-category">{ev.category}</span>
                <h2>{ev.name}</h2>
                <p><time dateTime={ev.starts_at}>{eventDate(ev.starts_at, ev.venue.timezone)}</time></p>
                <p>{ev.venue.name}, {ev.venue.city}</p>
                <p className="from-price">From {money(Math.min(...ev.ticket_types.map((t) => t.price)), ev.currency)}</p>
              </a>
            </li>
          ))}
        </ul>
      )}
      {cursor && <button type="button" className="secondary" onClick={more}>Show more events</button>}
    </Page>
  );
}
