// The waiting room of an on-sale: the buyer's place, the expected wait and a progress bar,
// refreshed every few seconds (announced politely to screen readers). Coming back keeps the
// place; when it is the buyer's turn the admission token is kept for this tab and the buyer
// returns to the event page to choose tickets.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, type EventInfo, type QueuePlace } from "../api";
import { Alert } from "../components/Alert";
import { Loading, Page } from "../components/Page";
import { eventTime } from "../format";
import { describe, type Message } from "../messages";
import { saveQueueToken } from "../queueToken";
import { navigate } from "../router";

const POLL_MS = 3000;

export function waitText(seconds: number | null): string {
  if (seconds === null) return "Admission is paused for a moment; your place is kept.";
  if (seconds < 60) return "Less than a minute.";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `About ${minutes} minute${minutes === 1 ? "" : "s"}.`;
  const hours = Math.floor(minutes / 60);
  return `About ${hours} h ${minutes % 60} min.`;
}

export function WaitingPage({ id }: { id: string }) {
  const [event, setEvent] = useState<EventInfo | null>(null);
  const [place, setPlace] = useState<QueuePlace | null>(null);
  const [error, setError] = useState<Message | null>(null);
  // The place when the buyer first saw it: the bar shows progress from there.
  const start = useRef<number | null>(null);

  const show = useCallback((p: QueuePlace) => {
    if (p.state === "admitted" && p.token && p.token_expires_at) {
      saveQueueToken(id, p.token, p.token_expires_at);
      navigate(`/events/${id}?admitted=1`, true);
      return;
    }
    if (p.state === "open") {
      navigate(`/events/${id}`, true);
      return;
    }
    if (p.ahead !== null && start.current === null) start.current = p.ahead + 1;
    setPlace(p);
  }, [id]);

  const join = useCallback(async () => {
    setError(null);
    try {
      show(await api<QueuePlace>(`/api/events/${id}/queue`, { method: "POST" }));
    } catch (e) {
      setError(describe(e));
    }
  }, [id, show]);

  useEffect(() => {
    api<EventInfo>(`/api/events/${id}`).then(setEvent).catch((e) => setError(describe(e)));
    join();
    const timer = window.setInterval(() => {
      if (document.visibilityState !== "visible") return;
      api<QueuePlace>(`/api/events/${id}/queue`, { fresh: true }).then(show).catch((e) => setError(describe(e)));
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [id, join, show]);

  const title = event ? `Waiting room: ${event.name}` : "Waiting room";
  if (!place) {
    return error ? <Page title={title}><Alert message={error} /></Page> : <Loading what="your place in the queue" />;
  }
  const first = start.current ?? 1;
  const done = place.ahead === null ? 0 : Math.max(0, first - (place.ahead + 1));
  return (
    <Page title={title}>
      {place.state === "pre_queue" && (
        <div role="status" aria-live="polite">
          <p className="queue-headline">You're in the waiting room.</p>
          <p>The sale opens {place.opens_at ? eventTime(place.opens_at, event?.venue.timezone) : "soon"}. Everyone who arrives
            before then gets a random place in line at that moment, so there is no need to hurry
            or to refresh.</p>
          <p className="muted">{place.total} {place.total === 1 ? "person is" : "people are"} waiting.</p>
        </div>
      )}
      {place.state === "queued" && place.place !== null && (
        <>
          <div role="status" aria-live="polite" aria-atomic="true">
            <p className="queue-headline">
              {place.ahead === 0 ? "You're next." : `${place.ahead} ${place.ahead === 1 ? "person is" : "people are"} ahead of you.`}
            </p>
            <p>Expected wait: {waitText(place.expected_wait_seconds)}</p>
          </div>
          <label className="queue-progress">Your progress in the queue
            <progress max={first} value={done}>{Math.round((100 * done) / first)}%</progress>
          </label>
          <p className="muted">Keep this page open, or come back later: your place is kept. We
            let buyers in a few at a time so the shop stays fast for everyone.</p>
        </>
      )}
      {place.state === "expired" && (
        <Alert tone="info" message={{ text: "Your turn to buy has passed.", next: "Join the queue again to get a new place at the back." }}>
          <button type="button" onClick={join}>Join again</button>
        </Alert>
      )}
      {error && <Alert message={error} />}
    </Page>
  );
}
