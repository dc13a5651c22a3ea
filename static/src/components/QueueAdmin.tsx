// The organiser's waiting-room controls on the edit page: turn the queue on or off, its
// opening time and admission rate, pause and resume, and live figures (refreshed every few
// seconds): people waiting, admitted, and the wait of the last in line.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, ApiError, type EventInfo, type QueueStats } from "../api";
import { describe, type Message } from "../messages";
import { waitText } from "../pages/WaitingPage";
import { Alert } from "./Alert";

function localInput(iso: string): string {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

export function QueueAdmin({ eventId }: { eventId: string }) {
  const [enabled, setEnabled] = useState(false);
  const [opensAt, setOpensAt] = useState("");
  // The input shows minutes only: send the time only when the organiser changed it, or a
  // queue that opened at 09:00:30 would be asked to move to 09:00.
  const [savedOpensAt, setSavedOpensAt] = useState("");
  const [rate, setRate] = useState("");
  const [stats, setStats] = useState<QueueStats | null>(null);
  const [error, setError] = useState<Message | null>(null);

  const refresh = useCallback(async () => {
    try {
      setStats(await api<QueueStats>(`/api/admin/events/${eventId}/queue`, { fresh: true }));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) setError(describe(e));
    }
  }, [eventId]);

  useEffect(() => {
    api<EventInfo>(`/api/events/${eventId}`, { fresh: true }).then((ev) => {
      if (!ev.queue) return;
      setEnabled(ev.queue.enabled);
      setOpensAt(localInput(ev.queue.opens_at));
      setSavedOpensAt(localInput(ev.queue.opens_at));
      setRate(String(ev.queue.admit_per_minute));
    }).catch(() => undefined);
    refresh();
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") refresh();
    }, 5000);
    return () => window.clearInterval(timer);
  }, [eventId, refresh]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const body: Record<string, unknown> = { enabled };
      if (opensAt && opensAt !== savedOpensAt) body.opens_at = new Date(opensAt).toISOString();
      if (rate) body.admit_per_minute = Number(rate);
      const s = await api<QueueStats>(`/api/admin/events/${eventId}/queue`, { method: "PUT", body });
      setStats(s);
      setOpensAt(localInput(s.opens_at));
      setSavedOpensAt(localInput(s.opens_at));
      setRate(String(s.admit_per_minute));
    } catch (err) {
      const m = describe(err);
      setError(err instanceof ApiError && err.field ? { text: `${err.field}: ${m.text}` } : m);
    }
  };

  const pause = async (action: "pause" | "resume") => {
    setError(null);
    try {
      setStats(await api<QueueStats>(`/api/admin/events/${eventId}/queue/${action}`, { method: "POST" }));
    } catch (err) {
      setError(describe(err));
    }
  };

  return (
    <form onSubmit={save} className="admin-form" aria-labelledby="queue-legend">
      <fieldset>
        <legend id="queue-legend">Waiting room</legend>
        <label className="check"><input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Sell through a waiting room</label>
        <label>Queue opens at<input type="datetime-local" value={opensAt} onChange={(e) => setOpensAt(e.target.value)} /></label>
        <label>Buyers admitted per minute<input type="number" min={1} max={1000000} value={rate} placeholder="the measured default" onChange={(e) => setRate(e.target.value)} /></label>
        <p className="muted">Everyone who arrives before the opening gets a random place at that moment; later arrivals queue in order. An admitted buyer has a few minutes to hold tickets.</p>
        {stats && (
          <dl className="queue-stats" aria-live="polite">
            <dt>Status</dt><dd>{!stats.enabled ? "off" : stats.paused ? "paused" : stats.opened ? "admitting" : "pre-queue (not open yet)"}</dd>
            <dt>Waiting</dt><dd>{stats.waiting}</dd>
            <dt>Admitted</dt><dd>{stats.admitted}</dd>
            <dt>Wait for the last in line</dt><dd>{waitText(stats.expected_wait_seconds)}</dd>
          </dl>
        )}
        {error && <Alert message={error} />}
        <div className="actions">
          <button type="submit">Save waiting room</button>
          {stats && (stats.paused
            ? <button type="button" className="secondary" onClick={() => pause("resume")}>Resume admission</button>
            : <button type="button" className="secondary" onClick={() => pause("pause")}>Pause admission</button>)}
        </div>
      </fieldset>
    </form>
  );
}
