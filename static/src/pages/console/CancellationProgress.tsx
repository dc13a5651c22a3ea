// Progress of refunding every order of a cancelled event (a background job on the server),
// polled every 2 seconds until it is done.
import { useEffect, useState } from "react";
import { api, ApiError } from "../../api";

interface Job { status: string; orders: number; refunded: number }

export function CancellationProgress({ eventId }: { eventId: string }) {
  const [job, setJob] = useState<Job | null>(null);
  useEffect(() => {
    let timer = 0;
    let stop = false;
    const poll = () => {
      api<Job>(`/api/admin/events/${eventId}/cancellation`, { fresh: true })
        .then((j) => { if (stop) return; setJob(j); if (j.status !== "done") timer = window.setTimeout(poll, 2000); })
        .catch((e) => { if (!stop && !(e instanceof ApiError && e.status === 404)) timer = window.setTimeout(poll, 5000); });
    };
    poll();
    return () => { stop = true; window.clearTimeout(timer); };
  }, [eventId]);
  if (!job) return null;
  return (
    <div role="status" aria-live="polite" className="alert alert-info">
      {job.status === "done"
        ? <p>Every order is refunded ({job.refunded} of {job.orders}).</p>
        : <><p>Refunding orders: {job.refunded} of {job.orders} done.</p><progress max={Math.max(job.orders, 1)} value={job.refunded} aria-label="Refund progress" /></>}
    </div>
  );
}
