// A hold: what is held, the countdown, and the payment form (test cards explained).
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, type EventInfo, type Hold } from "../api";
import { Alert } from "../components/Alert";
import { Countdown } from "../components/Countdown";
import { Loading, Page } from "../components/Page";
import { money } from "../format";
import { describe, type Message } from "../messages";
import { navigate } from "../router";

const CARDS = [
  { token: "tok_visa", label: "Visa test card", effect: "pays successfully" },
  { token: "tok_chargeDeclined", label: "Declined card", effect: "is declined by the bank" },
  { token: "tok_processingError", label: "Processing error", effect: "fails at the processor every time" },
];

export function HoldPage({ id }: { id: string }) {
  const [hold, setHold] = useState<Hold | null>(null);
  const [event, setEvent] = useState<EventInfo | null>(null);
  const [card, setCard] = useState(CARDS[0].token);
  const [error, setError] = useState<Message | null>(null);
  const [expired, setExpired] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<Hold>(`/api/holds/${id}`)
      .then((h) => {
        setHold(h);
        if (h.status === "checkout" || h.status === "committed") navigate(`/orders/${h.order_id}`, true);
        return api<EventInfo>(`/api/events/${h.event_id}`).then(setEvent);
      })
      .catch((e) => setError(describe(e)));
  }, [id]);

  const onExpire = useCallback(() => setExpired(true), []);

  if (!hold) return error ? <Page title="Your hold"><Alert message={error} /></Page> : <Loading what="your hold" />;
  const name = (tt: string) => event?.ticket_types.find((t) => t.id === tt)?.name ?? "Ticket";
  const back = () => navigate(`/events/${hold.event_id}`);

  if (hold.status === "released" || expired) {
    return (
      <Page title="Hold expired">
        <Alert message={{ text: "Your hold ended and its tickets were released.", next: "Go back to the event to hold tickets again." }}>
          <button type="button" onClick={back}>Back to the event</button>
        </Alert>
      </Page>
    );
  }

  const pay = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ order_id: string }>(`/api/holds/${id}/checkout`, { method: "POST", body: { payment_token: card } });
      navigate(`/orders/${r.order_id}`);
    } catch (err) {
      setError(describe(err));
      setBusy(false);
    }
  };

  const cancel = async () => {
    try {
      await api(`/api/holds/${id}`, { method: "DELETE" });
      back();
    } catch (err) {
      setError(describe(err));
    }
  };

  return (
    <Page title="Checkout">
      {event && <p className="event-meta">{event.name}</p>}
      <Countdown until={hold.expires_at} onExpire={onExpire} />
      <table className="summary">
        <caption className="visually-hidden">Tickets held</caption>
        <thead><tr><th scope="col">Ticket</th><th scope="col">Qty</th><th scope="col">Price</th></tr></thead>
        <tbody>
          {hold.items.map((i) => (
            <tr key={i.ticket_type_id}><td>{name(i.ticket_type_id)}</td><td>{i.quantity}</td><td>{money(i.unit_price * i.quantity, hold.currency)}</td></tr>
          ))}
        </tbody>
        <tfoot>
          {hold.discount > 0 && <tr><th scope="row" colSpan={2}>Promo {hold.promo_code}</th><td>−{money(hold.discount, hold.currency)}</td></tr>}
          <tr><th scope="row" colSpan={2}>Total</th><td><strong>{money(hold.total, hold.currency)}</strong></td></tr>
        </tfoot>
      </table>
      <form onSubmit={pay} className="payment">
        <fieldset>
          <legend>Payment</legend>
          <p className="muted">
            This is a demo shop: no real card is charged. Choose a test card to see what happens
            when a payment succeeds, is declined, or the processor fails.
          </p>
          {CARDS.map((c) => (
            <label key={c.token} className="radio">
              <input type="radio" name="card" value={c.token} checked={card === c.token} onChange={() => setCard(c.token)} />
              <span><strong>{c.label}</strong> <code>{c.token}</code> — {c.effect}</span>
            </label>
          ))}
        </fieldset>
        {error && <Alert message={error} />}
        <div className="actions">
          <button type="submit" disabled={busy}>{busy ? "Paying…" : `Pay ${money(hold.total, hold.currency)}`}</button>
          <button type="button" className="secondary" onClick={cancel} disabled={busy}>Cancel and release tickets</button>
        </div>
      </form>
    </Page>
  );
}
