// Organiser pages (admin): create an event with its venue and ticket types, or edit one:
// details, prices, capacities (never below what is sold or held), new ticket types, and
// publishing or cancelling the sale. The start is entered as the venue's wall-clock time in
// the venue's time zone and sent as the instant it names (summer time included).
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, type EventInfo, type Venue } from "../api";
import { Alert } from "../components/Alert";
import { Page } from "../components/Page";
import { allZones, browserZone, wallClock, zonedInstant } from "../format";
import { QueueAdmin } from "../components/QueueAdmin";
import { describe, fieldMessage, type Message } from "../messages";
import { navigate } from "../router";
import { CancellationProgress } from "./console/CancellationProgress";
import { ConsoleNav } from "./console/ConsoleNav";
import { ImageUpload } from "./console/ImageUpload";

interface TypeRow { id?: string; name: string; price: string; capacity: string }

const ZONES = allZones();

export function AdminEventPage({ eventId }: { eventId?: string }) {
  const [f, setF] = useState({ name: "", description: "", category: "music", starts_at: "", venue_name: "", city: "", address: "", country: "", timezone: browserZone(), currency: "EUR", per_user_limit: "8" });
  const [types, setTypes] = useState<TypeRow[]>([{ name: "General admission", price: "", capacity: "" }]);
  const [error, setError] = useState<Message | null>(null);
  const [busy, setBusy] = useState(false);
  const [loaded, setLoaded] = useState(!eventId);
  const [status, setStatus] = useState("on_sale");
  const [draft, setDraft] = useState(false);
  const [venues, setVenues] = useState<Venue[]>([]);
  const [venueId, setVenueId] = useState("");  // "" = a new venue, described below
  const [imageUrl, setImageUrl] = useState("");
  useEffect(() => {
    if (eventId) return;
    api<{ items: Venue[] }>("/api/venues?limit=100", { fresh: true }).then((r) => setVenues(r.items)).catch(() => undefined);
  }, [eventId]);
  useEffect(() => {
    if (!eventId) return;
    api<EventInfo>(`/api/events/${eventId}`, { fresh: true })
      .then((ev) => {
        setF({ name: ev.name, description: ev.description, category: ev.category || "music", starts_at: wallClock(ev.starts_at, ev.venue.timezone),
          venue_name: ev.venue.name, city: ev.venue.city, address: ev.venue.address, country: ev.venue.country, timezone: ev.venue.timezone,
          currency: ev.currency, per_user_limit: String(ev.per_user_limit) });
        setTypes(ev.ticket_types.map((t) => ({ id: t.id, name: t.name, price: (t.price / 100).toFixed(2), capacity: String(t.capacity) })));
        setStatus(ev.status);
        setImageUrl(ev.image_url);
        setLoaded(true);
      })
      .catch((e) => setError(describe(e)));
  }, [eventId]);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const setType = (i: number, k: keyof TypeRow, v: string) => setTypes(types.map((t, j) => (j === i ? { ...t, [k]: v } : t)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    // The organiser enters the venue's wall-clock time: a picked venue's zone, else the form's.
    const zone = (venueId && venues.find((v) => v.id === venueId)?.timezone) || f.timezone;
    const startsAt = zonedInstant(f.starts_at, zone);
    if (!startsAt) {
      setError({ text: `Starts at: ${f.starts_at.replace("T", " ")} doesn't exist in ${zone} (the clocks skip that hour).`, next: "Choose a time outside the change to summer time." });
      return;
    }
    setBusy(true);
    try {
      const venue = { name: f.venue_name, city: f.city, address: f.address, country: f.country, timezone: f.timezone };
      const saved = eventId
        ? await api<EventInfo>(`/api/admin/events/${eventId}`, {
            method: "PATCH",
            body: {
              name: f.name, description: f.description, category: f.category,
              starts_at: startsAt, venue, per_user_limit: Number(f.per_user_limit),
              ticket_types: types.map((t) => ({ ...(t.id ? { id: t.id } : {}), name: t.name, price: Math.round(Number(t.price) * 100), capacity: Number(t.capacity) })),
            },
          })
        : await api<EventInfo>("/api/admin/events", {
        method: "POST",
        body: {
          name: f.name, description: f.description, category: f.category,
          starts_at: startsAt,
          ...(venueId ? { venue_id: venueId } : { venue }),
          status: draft ? "draft" : "on_sale",
          currency: f.currency, per_user_limit: Number(f.per_user_limit),
          ticket_types: types.map((t) => ({ name: t.name, price: Math.round(Number(t.price) * 100), capacity: Number(t.capacity) })),
        },
      });
      // A draft is not on sale: its organiser goes on to edit and publish it.
      navigate(saved.status === "draft" ? `/admin/events/${saved.id}/edit` : `/events/${saved.id}`);
    } catch (err) {
      setError(err instanceof ApiError && err.field ? fieldMessage(err) : describe(err));
      setBusy(false);
    }
  };

  const lifecycle = async (action: "publish" | "cancel") => {
    if (action === "cancel" && !window.confirm("Cancel this event? Sales stop, every order is refunded, and it can't be put on sale again.")) return;
    setError(null);
    try {
      if (action === "cancel") {
        // Sales stop at once; the refunds run in the background (progress below).
        await api(`/api/admin/events/${eventId}/cancellation`, { method: "POST" });
        setStatus("cancelled");
        return;
      }
      const ev = await api<EventInfo>(`/api/admin/events/${eventId}/${action}`, { method: "POST" });
      setStatus(ev.status);
    } catch (err) {
      setError(describe(err));
    }
  };

  return (
    <Page title={eventId ? "Edit event" : "Create an event"}>
      {eventId && <ConsoleNav eventId={eventId} here="edit" />}
      {eventId && loaded && <ImageUpload key={imageUrl} eventId={eventId} initial={imageUrl} />}
      {!loaded && !error && <p role="status">Loading the event…</p>}
      <form onSubmit={submit} className="admin-form" hidden={!loaded}>
        <fieldset>
          <legend>Event</legend>
          <label>Name<input required value={f.name} onChange={set("name")} /></label>
          <label>Description<textarea rows={3} value={f.description} onChange={set("description")} /></label>
          <label>Category
            <select value={f.category} onChange={set("category")}>
              {["music", "classical", "sports", "comedy", "theatre", "family"].map((c) => <option key={c}>{c}</option>)}
            </select>
          </label>
          <label>Starts at (local time at the venue)
            <input type="datetime-local" required value={f.starts_at} onChange={set("starts_at")} aria-describedby="starts-zone" />
          </label>
          <p id="starts-zone" className="field-hint">In the venue's time zone, {f.timezone}: buyers see this time with the zone, wherever they are.</p>
          <label>Currency<input required pattern="[A-Za-z]{3}" maxLength={3} value={f.currency} onChange={set("currency")} readOnly={!!eventId} /></label>
          <label>Tickets per buyer<input type="number" min={1} max={50} required value={f.per_user_limit} onChange={set("per_user_limit")} /></label>
        </fieldset>
        <fieldset>
          <legend>Venue</legend>
          {!eventId && venues.length > 0 && (
            <div className="field">
              <label htmlFor="venue-pick">Venue</label>
              <select id="venue-pick" value={venueId} onChange={(e) => setVenueId(e.target.value)}>
                <option value="">A new venue</option>
                {venues.map((v) => <option key={v.id} value={v.id}>{v.name}, {v.city}</option>)}
              </select>
            </div>
          )}
          {!venueId && (
            <>
            <label>Venue name<input required value={f.venue_name} onChange={set("venue_name")} /></label>
            <label>City<input required value={f.city} onChange={set("city")} /></label>
            <label>Address<input value={f.address} onChange={set("address")} /></label>
            <label>Country<input value={f.country} onChange={set("country")} /></label>
            <label>Time zone
              <select required value={f.timezone} onChange={set("timezone")}>
                {(ZONES.includes(f.timezone) ? ZONES : [f.timezone, ...ZONES]).map((z) => <option key={z} value={z}>{z.replace(/_/g, " ")}</option>)}
              </select>
            </label>
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Ticket types</legend>
          {types.map((t, i) => (
            <div className="type-row" key={i}>
              <label>Name<input required value={t.name} onChange={(e) => setType(i, "name", e.target.value)} /></label>
              <label>Price ({f.currency})<input type="number" min={0} step="0.01" required value={t.price} onChange={(e) => setType(i, "price", e.target.value)} /></label>
              <label>Capacity<input type="number" min={0} required value={t.capacity} aria-describedby={eventId ? "capacity-note" : undefined} onChange={(e) => setType(i, "capacity", e.target.value)} /></label>
              {!t.id && types.length > 1 && <button type="button" className="secondary" aria-label={`Remove ticket type ${t.name || i + 1}`} onClick={() => setTypes(types.filter((_, j) => j !== i))}>Remove</button>}
            </div>
          ))}
          {eventId && <p id="capacity-note" className="muted">Raising a capacity puts the new tickets on sale at once; it can't go below the tickets already sold or held.</p>}
          <button type="button" className="secondary" onClick={() => setTypes([...types, { name: "", price: "", capacity: "" }])}>Add a ticket type</button>
        </fieldset>
        {!eventId && (
          <label className="radio"><input type="checkbox" checked={draft} onChange={(e) => setDraft(e.target.checked)} />Save as a draft: not listed or sold until you publish it</label>
        )}
        {error && <Alert message={error} />}
        <div className="actions">
          <button type="submit" disabled={busy}>{busy ? "Saving…" : eventId ? "Save changes" : "Create event"}</button>
          {eventId && status === "draft" && <button type="button" className="secondary" onClick={() => lifecycle("publish")}>Publish: put on sale</button>}
          {eventId && status !== "cancelled" && <button type="button" className="secondary" onClick={() => lifecycle("cancel")}>Cancel the event and refund every order</button>}
        </div>
        {eventId && status === "cancelled" && <p role="status">This event is cancelled: it is no longer listed or sold.</p>}
        {eventId && status === "cancelled" && <CancellationProgress eventId={eventId} />}
      </form>
      {eventId && loaded && <QueueAdmin eventId={eventId} />}
      {eventId && (
        <nav aria-label="At the door" className="door-links">
          <a href={`/admin/events/${eventId}/staff`} onClick={(e) => { e.preventDefault(); navigate(`/admin/events/${eventId}/staff`); }}>Door staff</a>
          {" · "}
          <a href={`/door/${eventId}`} onClick={(e) => { e.preventDefault(); navigate(`/door/${eventId}`); }}>Door check-in</a>
        </nav>
      )}
    </Page>
  );
}
