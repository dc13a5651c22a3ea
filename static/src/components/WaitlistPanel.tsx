// The waiting list of an event's sold-out ticket types (issue 16): join with a quantity,
// see your place (polled gently, and on returning to the tab), leave; once tickets come
// back and it is your turn, they are held for you until a time, with a link to buy them.
import { useCallback, useEffect, useState } from "react";
import { api, type EventInfo, type Waitlist, type WaitlistEntry } from "../api";
import { timeOfDay } from "../format";
import { describe, type Message } from "../messages";
import { navigate } from "../router";
import { Alert } from "./Alert";
import { QuantityPicker } from "./QuantityPicker";

const POLL_MS = 5000;

const ENDED: Record<string, string> = {
  expired: "Your waiting-list offer expired and passed to the next in line.",
  declined: "You declined your waiting-list offer.",
  lapsed: "Your turn came, but you already have as many tickets as one buyer may.",
};

export function WaitlistPanel({ event, soldOut, signedIn, onChange }: {
  event: EventInfo; soldOut: string[]; signedIn: boolean; onChange(): void;
}) {
  const [list, setList] = useState<Waitlist | null>(null);
  const [qty, setQty] = useState<Record<string, number>>({});
  const [error, setError] = useState<Message | null>(null);
  const [busy, setBusy] = useState(false);
  const url = `/api/events/${event.id}/waitlist`;

  const refresh = useCallback(async () => {
    if (!signedIn) return;
    setList(await api<Waitlist>(url));
  }, [signedIn, url]);

  useEffect(() => {
    refresh().catch(() => undefined);
    const tick = () => { if (document.visibilityState === "visible") refresh().catch(() => undefined); };
    const timer = window.setInterval(tick, POLL_MS);
    window.addEventListener("focus", tick);
    document.addEventListener("visibilitychange", tick);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener("focus", tick);
      document.removeEventListener("visibilitychange", tick);
    };
  }, [refresh]);

  const entryOf = (typeId: string): WaitlistEntry | undefined =>
    list?.entries.find((e) => e.ticket_type_id === typeId);
  const shown = event.ticket_types.filter((t) => {
    const e = entryOf(t.id);
    return soldOut.includes(t.id) || e?.status === "waiting" || e?.status === "offered";
  });
  if (event.status !== "on_sale" || shown.length === 0) return null;

  const act = async (run: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await run();
      await refresh();
      onChange();
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  };
  const join = (typeId: string) => act(() => api(url, { method: "POST", body: { ticket_type_id: typeId, quantity: qty[typeId] ?? 1 } }));
  const leave = (entry: WaitlistEntry) => act(() => api(`${url}/${entry.entry_id}`, { method: "DELETE" }));

  return (
    <section className="waitlist" aria-labelledby="waitlist-title">
      <h2 id="waitlist-title">Waiting list</h2>
      <p className="muted">When tickets come back, they are offered in order of joining, held for you for a limited time.</p>
      {error && <Alert message={error} />}
      <ul className="ticket-types">
        {shown.map((t) => {
          const e = entryOf(t.id);
          const tickets = (n: number) => `${n} ticket${n === 1 ? "" : "s"}`;
          if (e?.status === "offered" && e.hold_id && e.offer_expires_at) {
            const holdUrl = `/holds/${e.hold_id}`;
            return (
              <li key={t.id} className="waitlist-offer">
                <p role="status">
                  <strong>Tickets are held for you until {timeOfDay(e.offer_expires_at, event.venue.timezone, "en-GB")}</strong>
                  {" "}— {tickets(e.quantity)} of {t.name}.
                </p>
                <div className="waitlist-actions">
                  <a className="button" href={holdUrl} onClick={(ev) => { ev.preventDefault(); navigate(holdUrl); }}>Buy now</a>
                  <button type="button" className="secondary" disabled={busy} onClick={() => leave(e)}>No thanks</button>
                </div>
              </li>
            );
          }
          if (e?.status === "waiting") {
            return (
              <li key={t.id}>
                <p role="status">You are <strong>#{e.place}</strong> in line for {t.name} ({tickets(e.quantity)}).</p>
                <button type="button" className="secondary" disabled={busy} onClick={() => leave(e)}>Leave the waiting list</button>
              </li>
            );
          }
          const ended = e ? ENDED[e.status] : undefined;
          return (
            <li key={t.id}>
              <div>
                <strong>{t.name} is sold out</strong>
                {(list?.waiting[t.id] ?? 0) > 0 && <span className="muted">{list?.waiting[t.id]} waiting</span>}
                {ended && <span className="muted">{ended}</span>}
              </div>
              {signedIn ? (
                <div className="waitlist-actions">
                  <QuantityPicker id={`wl-qty-${t.id}`} label={`${t.name} waiting-list`} value={qty[t.id] ?? 1}
                    max={event.per_user_limit} onChange={(n) => setQty({ ...qty, [t.id]: Math.max(1, n) })} />
                  <button type="button" disabled={busy} onClick={() => join(t.id)}>Join the waiting list</button>
                </div>
              ) : (
                <button type="button" onClick={() => navigate(`/login?next=${encodeURIComponent(`/events/${event.id}`)}`)}>
                  Log in to join the waiting list
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
