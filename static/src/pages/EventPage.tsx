// One event: details, ticket types with live availability, quantity pickers, and the hold.
// Only an event on sale offers pickers; a buyer sent to log in comes back to their choice.
// Sold-out types offer the waiting list (WaitlistPanel).
import { useCallback, useEffect, useState } from "react";
import { api, ApiError, type Availability, type EventInfo, type Hold } from "../api";
import { Alert } from "../components/Alert";
import { EventImage } from "../components/EventImage";
import { Loading, Page } from "../components/Page";
import { QuantityPicker } from "../components/QuantityPicker";
import { WaitlistPanel } from "../components/WaitlistPanel";
import { eventTime, money } from "../format";
import { describe, fieldText, type Message } from "../messages";
import { clearPending, readPending, savePending } from "../pending";
import { dropQueueToken, queueToken } from "../queueToken";
import { navigate } from "../router";
import { useSession } from "../session";

const REFRESH_MS = 3000;

export function EventPage({ id }: { id: string }) {
  const { user } = useSession();
  const isAdmin = user?.role === "admin";
  const [event, setEvent] = useState<EventInfo | null>(null);
  const [available, setAvailable] = useState<Record<string, number>>({});
  const [qty, setQty] = useState<Record<string, number>>(() => readPending(id)?.qty ?? {});
  const [error, setError] = useState<Message | null>(null);
  const [promoError, setPromoError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [promo, setPromo] = useState(() => readPending(id)?.promo ?? "");

  useEffect(() => {
    // Back from logging in: the choice is restored into the pickers; storage has done its job.
    if (user) clearPending(id);
  }, [user, id]);

  const refresh = useCallback(async () => {
    const a = await api<Availability>(`/api/events/${id}/availability`);
    const now = Object.fromEntries(a.ticket_types.map((t) => [t.id, t.available]));
    setAvailable(now);
    // Never keep asking for more than is left.
    setQty((q) => Object.fromEntries(Object.entries(q).map(([k, n]) => [k, Math.min(n, now[k] ?? 0)])));
  }, [id]);

  useEffect(() => {
    // Organisers revalidate, so their own edits show at once.
    api<EventInfo>(`/api/events/${id}`, { fresh: isAdmin }).then(setEvent).catch((e) => setError(describe(e)));
    refresh().catch(() => undefined);
    // Availability changes by the second during an on-sale: refresh while the page is open.
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") refresh().catch(() => undefined);
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [id, refresh, isAdmin]);

  if (!event) return error ? <Page title="Event"><Alert message={error} /></Page> : <Loading what="the event" />;

  const chosen = Object.values(qty).reduce((a, b) => a + b, 0);
  const total = event.ticket_types.reduce((sum, t) => sum + (qty[t.id] ?? 0) * t.price, 0);
  const room = event.per_user_limit - chosen;
  const onSale = event.status === "on_sale";
  const soldOutTypes = onSale ? event.ticket_types.filter((t) => available[t.id] === 0).map((t) => t.id) : [];

  const hold = async () => {
    if (!user) {
      savePending(id, { qty, promo });
      navigate(`/login?next=${encodeURIComponent(`/events/${id}`)}`);
      return;
    }
    // A queued sale: without this tab's admission token, the waiting room comes first.
    const admission = event.queue?.enabled ? queueToken(id) : null;
    if (event.queue?.enabled && !admission) {
      navigate(`/events/${id}/queue`);
      return;
    }
    setBusy(true);
    setError(null);
    setPromoError(null);
    try {
      const items = Object.entries(qty).filter(([, q]) => q > 0).map(([ticket_type_id, quantity]) => ({ ticket_type_id, quantity }));
      const body = promo.trim() ? { items, promo_code: promo.trim() } : { items };
      const h = await api<Hold>(`/api/events/${id}/holds`, { method: "POST", body, headers: admission ? { "x-queue-token": admission } : undefined });
      navigate(`/holds/${h.hold_id}`);
    } catch (e) {
      if (e instanceof ApiError && e.code === "queue-required") {
        dropQueueToken(id);
        navigate(`/events/${id}/queue`);
        return;
      }
      // A promo code problem belongs next to the promo field; everything else in the alert.
      if (e instanceof ApiError && e.field === "promo_code") {
        setPromoError(fieldText(e));
        // Focus reads the field with its error to a screen reader, like the alert would.
        document.getElementById("promo")?.focus();
      } else setError(describe(e));
      refresh().catch(() => undefined);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={event.name}>
      <EventImage url={event.image_url} sizes="(max-width: 960px) 100vw, 960px" />
      <p className="event-meta">
        <time dateTime={event.starts_at}>{eventTime(event.starts_at, event.venue.timezone)}</time>
        <span>{event.venue.name}, {event.venue.address ? `${event.venue.address}, ` : ""}{event.venue.city}</span>
      </p>
      {event.status !== "on_sale" && (
        <Alert tone="info" message={event.status === "cancelled"
          ? { text: "This event has been cancelled.", next: "Tickets are no longer sold." }
          : { text: "This event is not on sale yet." }} />
      )}
      {event.queue?.enabled && (queueToken(id)
        ? <Alert tone="info" message={{ text: "It's your turn: choose your tickets and hold them." }} />
        : <Alert tone="info" message={{ text: "This sale runs through a waiting room.", next: "Choosing tickets takes you to the queue; you can buy when it's your turn." }} />)}
      {event.description && <p>{event.description}</p>}
      {user?.role === "admin" && (
        <p><a href={`/admin/events/${id}/edit`} onClick={(e) => { e.preventDefault(); navigate(`/admin/events/${id}/edit`); }}>Edit event</a></p>
      )}
      <h2>Tickets</h2>
      {onSale && <p className="muted">Up to {event.per_user_limit} tickets per buyer. Availability updates live.</p>}
      <ul className="ticket-types">
        {event.ticket_types.map((t) => {
          const left = available[t.id];
          const soldOut = onSale && left === 0;
          const max = Math.max(0, Math.min(left ?? 0, (qty[t.id] ?? 0) + room));
          return (
            <li key={t.id} className={soldOut ? "sold-out" : ""}>
              <div>
                <strong id={`tt-${t.id}`}>{t.name}</strong>
                <span className="price">{money(t.price, t.currency)}</span>
                {onSale && (
                  <span className="availability" aria-live="polite">
                    {left === undefined ? "…" : soldOut ? "Sold out" : `${left} left`}
                  </span>
                )}
              </div>
              {onSale && <QuantityPicker id={`qty-${t.id}`} label={t.name} value={qty[t.id] ?? 0} max={max} onChange={(n) => setQty({ ...qty, [t.id]: n })} />}
            </li>
          );
        })}
      </ul>
      <WaitlistPanel event={event} soldOut={soldOutTypes} signedIn={user !== null} onChange={() => refresh().catch(() => undefined)} />
      {onSale && (
        <>
          <div className="field promo">
            <label htmlFor="promo">Promo code (optional)</label>
            <input id="promo" name="promo" value={promo} autoComplete="off" maxLength={32}
              aria-invalid={promoError ? true : undefined} aria-describedby={promoError ? "promo-err" : undefined}
              onChange={(e) => { setPromo(e.target.value); setPromoError(null); }} />
            {promoError && <p id="promo-err" className="field-error">{promoError}</p>}
          </div>
          {error && <Alert message={error} />}
          <div className="hold-bar">
            <span>{chosen} ticket{chosen === 1 ? "" : "s"} · <strong>{money(total, event.currency)}</strong></span>
            <button type="button" onClick={hold} disabled={busy || (user !== null && chosen === 0)}>
              {busy ? "Holding…" : user ? "Hold tickets" : "Log in to buy"}
            </button>
          </div>
        </>
      )}
    </Page>
  );
}
