// Door check-in for staff: the events whose door they work, and per event a scanner (camera
// or typed code) that answers with a big green or red screen.
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { api, type DoorCounts, type DoorEvent, type EventInfo, type Scan } from "../api";
import { Alert } from "../components/Alert";
import { Loading, Page } from "../components/Page";
import { QrScanner } from "../components/QrScanner";
import { eventDate, timeOfDay } from "../format";
import { describe, type Message } from "../messages";
import { navigate } from "../router";
import { useSession } from "../session";

export function DoorsPage() {
  const { user } = useSession();
  const [events, setEvents] = useState<DoorEvent[] | null>(null);
  const [error, setError] = useState<Message | null>(null);
  useEffect(() => {
    api<{ items: DoorEvent[] }>("/api/staff/events", { fresh: true }).then((r) => setEvents(r.items)).catch((e) => setError(describe(e)));
  }, []);
  return (
    <Page title="Door check-in">
      {error && <Alert message={error} />}
      {!events && !error && <Loading what="your events" />}
      {events && events.length === 0 && (
        <p>You are not door staff at any event. An organiser can add you on the event's “Door staff” page.</p>
      )}
      {events && events.length > 0 && (
        <ul className="door-events">
          {events.map((e) => (
            <li key={e.id}>
              <a href={`/door/${e.id}`} onClick={(ev) => { ev.preventDefault(); navigate(`/door/${e.id}`); }}>{e.name}</a>
              <span className="muted"> · {e.venue} · <time dateTime={e.starts_at}>{eventDate(e.starts_at, e.timezone)}</time></span>
            </li>
          ))}
        </ul>
      )}
      {user?.role === "admin" && <p className="muted">Organisers check in at any event: open “Door check-in” from the event's edit page.</p>}
    </Page>
  );
}

const VERDICT: Record<Scan["result"], { ok: boolean; title: string }> = {
  admitted: { ok: true, title: "Valid: let them in" },
  already_checked_in: { ok: false, title: "Already checked in" },
  refunded: { ok: false, title: "Refunded: not valid" },
  wrong_event: { ok: false, title: "Wrong event" },
  forged: { ok: false, title: "Not a genuine ticket" },
  unknown_ticket: { ok: false, title: "Unknown ticket" },
};

function Verdict({ scan, event }: { scan: Scan; event: EventInfo | null }) {
  const v = VERDICT[scan.result];
  const zone = event?.venue.timezone;
  const type = event?.ticket_types.find((t) => t.id === scan.ticket_type_id)?.name;
  let detail = "";
  if (scan.result === "admitted") detail = type ? `${type} ticket.` : "";
  else if (scan.result === "already_checked_in" && scan.checked_in_at) {
    detail = `Checked in at ${timeOfDay(scan.checked_in_at, zone)} by ${scan.checked_in_by ?? "staff"}.`;
  } else if (scan.result === "refunded") detail = "This ticket's order was refunded or cancelled.";
  else if (scan.result === "wrong_event") detail = "This ticket is for another event.";
  else if (scan.result === "forged") detail = "The code was altered or not issued by us.";
  else if (scan.result === "unknown_ticket") detail = "The code is ours but no such ticket exists. Ask the buyer for their order.";
  return (
    <div className={`verdict ${v.ok ? "verdict-ok" : "verdict-no"}`} role="status" aria-live="assertive">
      <p className="verdict-title">{v.ok ? "✔" : "✖"} {v.title}</p>
      {detail && <p>{detail}</p>}
    </div>
  );
}

export function CheckInPage({ eventId }: { eventId: string }) {
  const [event, setEvent] = useState<EventInfo | null>(null);
  const [counts, setCounts] = useState<DoorCounts | null>(null);
  const [scan, setScan] = useState<Scan | null>(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState<Message | null>(null);
  const busy = useRef(false);

  const refresh = useCallback(() => {
    api<DoorCounts>(`/api/staff/events/${eventId}/checkins`, { fresh: true }).then(setCounts).catch((e) => setError(describe(e)));
  }, [eventId]);
  useEffect(() => {
    api<EventInfo>(`/api/events/${eventId}`).then(setEvent).catch(() => undefined);
    refresh();
  }, [eventId, refresh]);

  const check = useCallback(async (value: string) => {
    if (busy.current || !value.trim()) return;
    busy.current = true;
    try {
      setScan(await api<Scan>(`/api/staff/events/${eventId}/checkins`, { method: "POST", body: { code: value.trim() } }));
      setError(null);
      refresh();
    } catch (e) {
      setScan(null);
      setError(describe(e));
    } finally {
      busy.current = false;
    }
  }, [eventId, refresh]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    check(code).then(() => setCode(""));
  };

  return (
    <Page title="Check in" heading={<>Check in{event ? <>: {event.name}</> : null}</>}>
      {counts && <p className="door-count" role="status">{counts.checked_in} of {counts.tickets} tickets checked in</p>}
      {error && <Alert message={error} />}
      {scan && <Verdict scan={scan} event={event} />}
      <QrScanner onCode={check} />
      <form onSubmit={submit} className="manual-code">
        <label>Ticket code
          <input value={code} onChange={(e) => setCode(e.target.value)} autoComplete="off" autoCapitalize="off" spellCheck={false} aria-describedby="code-hint" />
        </label>
        <p id="code-hint" className="field-hint">If the camera can't read it, type or paste the code printed under the QR code.</p>
        <button type="submit">Check in</button>
      </form>
    </Page>
  );
}

export function StaffPage({ eventId }: { eventId: string }) {
  const [event, setEvent] = useState<EventInfo | null>(null);
  const [staff, setStaff] = useState<{ user_id: string; email: string; display_name: string }[] | null>(null);
  const [email, setEmail] = useState("");
  const [error, setError] = useState<Message | null>(null);
  const load = useCallback(() => {
    api<{ items: { user_id: string; email: string; display_name: string }[] }>(`/api/admin/events/${eventId}/staff`, { fresh: true })
      .then((r) => setStaff(r.items)).catch((e) => setError(describe(e)));
  }, [eventId]);
  useEffect(() => {
    api<EventInfo>(`/api/events/${eventId}`).then(setEvent).catch(() => undefined);
    load();
  }, [eventId, load]);
  const grant = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api(`/api/admin/events/${eventId}/staff`, { method: "POST", body: { email } });
      setEmail("");
      setError(null);
      load();
    } catch (err) {
      setError(describe(err));
    }
  };
  const revoke = async (userId: string) => {
    try {
      await api(`/api/admin/events/${eventId}/staff/${userId}`, { method: "DELETE" });
      load();
    } catch (err) {
      setError(describe(err));
    }
  };
  return (
    <Page title="Door staff" heading={<>Door staff{event ? <>: {event.name}</> : null}</>}>
      <p className="muted">Door staff can check tickets in at this event, and nothing else.</p>
      {error && <Alert message={error} />}
      {!staff && !error && <Loading what="door staff" />}
      {staff && staff.length === 0 && <p>No door staff yet.</p>}
      {staff && staff.length > 0 && (
        <ul className="staff-list">
          {staff.map((m) => (
            <li key={m.user_id}>
              <span>{m.display_name} <span className="muted">({m.email})</span></span>
              <button type="button" className="secondary" aria-label={`Remove ${m.email}`} onClick={() => revoke(m.user_id)}>Remove</button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={grant} className="manual-code">
        <label>Email of their account<input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} /></label>
        <button type="submit">Add door staff</button>
      </form>
      <p><a href={`/door/${eventId}`} onClick={(e) => { e.preventDefault(); navigate(`/door/${eventId}`); }}>Open door check-in</a></p>
    </Page>
  );
}
