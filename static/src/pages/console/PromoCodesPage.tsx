// An event's promo codes: list with uses so far, create, edit and deactivate.
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError } from "../../api";
import { Alert } from "../../components/Alert";
import { Loading, Page } from "../../components/Page";
import { localDate } from "../../format";
import { describe, type Message } from "../../messages";
import { ConsoleNav } from "./ConsoleNav";
import type { Offer } from "./types";

interface Form { code: string; kind: "percent" | "amount"; value: string; max_uses: string; valid_from: string; valid_to: string; active: boolean }
const EMPTY: Form = { code: "", kind: "percent", value: "", max_uses: "0", valid_from: "", valid_to: "", active: true };

function localInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

export function PromoCodesPage({ eventId }: { eventId: string }) {
  const [offers, setOffers] = useState<Offer[] | null>(null);
  const [currency, setCurrency] = useState("EUR");
  const [f, setF] = useState<Form>(EMPTY);
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<Message | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    api<{ items: Offer[] }>(`/api/admin/events/${eventId}/offers`, { fresh: true }).then((r) => setOffers(r.items)).catch((e) => setError(describe(e)));
    api<{ currency: string }>(`/api/events/${eventId}`, { fresh: true }).then((e) => setCurrency(e.currency)).catch(() => undefined);
  }, [eventId]);
  const put = async (body: Form) => {
    setError(null);
    try {
      const value = body.kind === "amount" ? Math.round(Number(body.value) * 100) : Number(body.value);
      const r = await api<{ items: Offer[] }>(`/api/admin/events/${eventId}/offers/${encodeURIComponent(body.code)}`, {
        method: "PUT",
        body: {
          code: body.code, kind: body.kind, value, max_uses: Number(body.max_uses) || 0, active: body.active,
          ...(body.valid_from ? { valid_from: new Date(body.valid_from).toISOString() } : {}),
          ...(body.valid_to ? { valid_to: new Date(body.valid_to).toISOString() } : {}),
        },
      });
      setOffers(r.items);
      return true;
    } catch (err) {
      const m = describe(err);
      setError(err instanceof ApiError && err.field ? { text: `${err.field}: ${m.text}` } : m);
      return false;
    }
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await put(f)) { setNotice(`Promo code ${f.code.toUpperCase()} saved.`); setF(EMPTY); setEditing(false); }
  };
  const toForm = (o: Offer): Form => ({ code: o.code, kind: o.kind, value: o.kind === "amount" ? (o.value / 100).toFixed(2) : String(o.value), max_uses: String(o.max_uses), valid_from: localInput(o.valid_from), valid_to: localInput(o.valid_to), active: o.active });
  const toggle = async (o: Offer) => {
    if (await put({ ...toForm(o), active: !o.active })) setNotice(`Promo code ${o.code} ${o.active ? "deactivated" : "reactivated"}.`);
  };
  const set = (k: keyof Form) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  return (
    <Page title="Promo codes">
      <ConsoleNav eventId={eventId} here="promos" />
      {error && <Alert message={error} />}
      {notice && <p role="status" className="alert alert-info">{notice}</p>}
      {!offers && !error && <Loading what="the promo codes" />}
      {offers && offers.length === 0 && <p>No promo codes yet.</p>}
      {offers && offers.length > 0 && (
        <div className="table-scroll">
          <table className="summary">
            <caption className="visually-hidden">Promo codes</caption>
            <thead><tr><th scope="col">Code</th><th scope="col">Discount</th><th scope="col">Uses</th><th scope="col">Valid</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {offers.map((o) => (
                <tr key={o.code}>
                  <th scope="row">{o.code}</th>
                  <td>{o.kind === "percent" ? `${o.value}% off` : `${(o.value / 100).toFixed(2)} ${currency} off`}</td>
                  <td>{o.uses}{o.max_uses ? ` / ${o.max_uses}` : ""}</td>
                  <td>{o.valid_from ? localDate(o.valid_from) : "now"} – {o.valid_to ? localDate(o.valid_to) : "open"}</td>
                  <td>{o.active ? "active" : "inactive"}</td>
                  <td className="console-links">
                    <button type="button" className="link" onClick={() => { setF(toForm(o)); setEditing(true); }}>Edit<span className="visually-hidden"> {o.code}</span></button>
                    <button type="button" className="link" onClick={() => void toggle(o)}>{o.active ? "Deactivate" : "Reactivate"}<span className="visually-hidden"> {o.code}</span></button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form className="admin-form" onSubmit={submit}>
        <fieldset>
          <legend>{editing ? `Edit ${f.code}` : "New promo code"}</legend>
          <label>Code<input required pattern="[A-Za-z0-9_-]{2,32}" value={f.code} readOnly={editing} onChange={set("code")} /></label>
          <div className="field">
            <label htmlFor="promo-kind">Kind</label>
            <select id="promo-kind" value={f.kind} onChange={set("kind")}>
              <option value="percent">Percent off</option>
              <option value="amount">Amount off ({currency})</option>
            </select>
          </div>
          <label>{f.kind === "percent" ? "Percent" : `Amount (${currency})`}<input type="number" required min={f.kind === "percent" ? 1 : 0.01} max={f.kind === "percent" ? 100 : undefined} step={f.kind === "percent" ? 1 : 0.01} value={f.value} onChange={set("value")} /></label>
          <label>Maximum uses (0: no limit)<input type="number" min={0} value={f.max_uses} onChange={set("max_uses")} /></label>
          <label>Valid from<input type="datetime-local" value={f.valid_from} onChange={set("valid_from")} /></label>
          <label>Valid until<input type="datetime-local" value={f.valid_to} onChange={set("valid_to")} /></label>
        </fieldset>
        <div className="actions">
          <button type="submit">{editing ? "Save promo code" : "Create promo code"}</button>
          {editing && <button type="button" className="secondary" onClick={() => { setF(EMPTY); setEditing(false); }}>Stop editing</button>}
        </div>
      </form>
    </Page>
  );
}
