// What organisers did to an event and its orders (the audit log), newest first.
import { useEffect, useState } from "react";
import { api } from "../../api";
import { Alert } from "../../components/Alert";
import { Loading, Page } from "../../components/Page";
import { localDate } from "../../format";
import { describe, type Message } from "../../messages";
import { ConsoleNav } from "./ConsoleNav";
import type { AuditEntry } from "./types";

export function AuditPage({ eventId }: { eventId: string }) {
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<Message | null>(null);
  useEffect(() => {
    api<{ items: AuditEntry[] }>(`/api/admin/events/${eventId}/audit?limit=200`, { fresh: true }).then((r) => setItems(r.items)).catch((e) => setError(describe(e)));
  }, [eventId]);
  return (
    <Page title="Activity">
      <ConsoleNav eventId={eventId} here="audit" />
      {error && <Alert message={error} />}
      {!items && !error && <Loading what="the activity" />}
      {items && items.length === 0 && <p>Nothing recorded yet.</p>}
      {items && items.length > 0 && (
        <div className="table-scroll">
          <table className="summary">
            <caption className="visually-hidden">Organiser actions</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Details</th></tr></thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>{localDate(e.at)}</td><td>{e.actor_id}</td><td>{e.action}</td>
                  <td><code>{Object.entries(e.detail).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join("; ")}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
