// The organiser uploads the event's image: sent as the request body with its own type; the
// server checks it, stores it resized, and answers the event with its new image_url.
import { useState, type ChangeEvent } from "react";
import { ApiError, getToken, NetworkError, type EventInfo, type Problem } from "../../api";
import { Alert } from "../../components/Alert";
import { EventImage } from "../../components/EventImage";
import { describe, type Message } from "../../messages";

export function ImageUpload({ eventId, initial }: { eventId: string; initial: string }) {
  const [url, setUrl] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Message | null>(null);
  const upload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const token = getToken();
      let r: Response;
      try {
        r = await fetch(`/api/admin/events/${eventId}/image`, {
          method: "POST", body: file,
          headers: { "content-type": file.type || "application/octet-stream", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        });
      } catch {
        throw new NetworkError("network unreachable");
      }
      const body: unknown = await r.json().catch(() => undefined);
      if (!r.ok) {
        const p = (body && typeof body === "object" && "status" in body ? body : { type: `/problems/http-${r.status}`, title: r.statusText, status: r.status, detail: "" }) as Problem;
        throw new ApiError(p);
      }
      setUrl((body as EventInfo).image_url);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 413 ? { text: "That image is too large.", next: "Choose a smaller file (at most a few megabytes)." } : describe(err));
    } finally {
      setBusy(false);
      e.target.value = "";
    }
  };
  return (
    <fieldset>
      <legend>Image</legend>
      {url ? <EventImage url={url} sizes="320px" className="image-preview" /> : <p className="muted">No image yet.</p>}
      <label>Event image (JPEG, PNG or WebP)<input type="file" accept="image/jpeg,image/png,image/webp" disabled={busy} onChange={(e) => void upload(e)} /></label>
      {busy && <p role="status">Uploading…</p>}
      {!busy && url && url !== initial && <p role="status">Image saved.</p>}
      {error && <Alert message={error} />}
    </fieldset>
  );
}
