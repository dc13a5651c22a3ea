// An order: waits while the payment is processed, then shows the tickets with QR codes or
// says why the order failed and what to do next.
import { useEffect, useState } from "react";
import { api, download, type EventInfo, type Order } from "../api";
import { Alert } from "../components/Alert";
import { Loading, Page } from "../components/Page";
import { TicketQr } from "../components/TicketQr";
import { eventTime, money } from "../format";
import { describe, orderFailure, type Message } from "../messages";
import { navigate } from "../router";

// A long poll: the server answers as soon as the order is final (or after WAIT_S, and
// the page asks again), so the buyer sees the result at once without polling every second.
const WAIT_S = 20;
const RETRY_MS = 3000;

export function OrderPage({ id }: { id: string }) {
  const [order, setOrder] = useState<Order | null>(null);
  const [event, setEvent] = useState<EventInfo | null>(null);
  const [error, setError] = useState<Message | null>(null);
  const [saveError, setSaveError] = useState<Message | null>(null);
  const save = (file: string, as: string) => {
    setSaveError(null);
    download(`/api/orders/${id}/${file}`, as).catch((e) => setSaveError(describe(e)));
  };

  useEffect(() => {
    let live = true;
    let first = true; // the first answer at once, to show the page; then wait for the final
    let timer: number | undefined;
    const poll = async () => {
      try {
        const o = await api<Order>(`/api/orders/${id}${first ? "" : `?wait=${WAIT_S}`}`);
        first = false;
        if (!live) return;
        setOrder(o);
        setError(null);
        if (o.status === "pending") timer = window.setTimeout(poll, 0);
      } catch (e) {
        if (!live) return;
        setError(describe(e));
        timer = window.setTimeout(poll, RETRY_MS); // keep trying through a network blip
      }
    };
    poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [id]);

  useEffect(() => {
    if (order && !event) api<EventInfo>(`/api/events/${order.event_id}`).then(setEvent).catch(() => undefined);
  }, [order, event]);

  if (!order) return error ? <Page title="Your order"><Alert message={error} /></Page> : <Loading what="your order" />;
  const name = (tt: string) => event?.ticket_types.find((t) => t.id === tt)?.name ?? "Ticket";

  if (order.status === "pending") {
    return (
      <Page title="Processing your payment">
        <p role="status" aria-live="polite" className="pending">Your payment is being processed. This usually takes a few seconds; you can keep this page open.</p>
        {error && <Alert message={error} />}
      </Page>
    );
  }
  if (order.status === "failed") {
    return (
      <Page title="Order not completed">
        <Alert message={orderFailure(order.reason)}>
          <button type="button" onClick={() => navigate(`/events/${order.event_id}`)}>Back to the event</button>
        </Alert>
      </Page>
    );
  }
  const valid = order.tickets.filter((t) => t.status !== "refunded");
  const refunded = order.tickets.length - valid.length;
  return (
    <Page title={valid.length ? "You're going!" : "Order refunded"}>
      <p role="status">
        Order confirmed{event ? <> for <strong>{event.name}</strong>, <time dateTime={event.starts_at}>{eventTime(event.starts_at, event.venue.timezone)}</time></> : null}. Total paid {money(order.total, order.currency)}.
      </p>
      {event && <p>{event.venue.name}{event.venue.address ? `, ${event.venue.address}` : ""}, {event.venue.city}</p>}
      {refunded > 0 && (
        <p className="alert alert-info">
          The organiser cancelled {refunded === order.tickets.length ? "this order" : `${refunded} of its tickets`} and refunded {money(order.refunded ?? 0, order.currency)} to your card. Cancelled tickets are no longer valid.
        </p>
      )}
      {valid.length > 0 && (
        <>
          <p className="muted">Show a ticket's QR code at the door. Each code admits one person.</p>
          <div className="downloads">
            <button type="button" className="secondary" onClick={() => save("tickets.pdf", "tickets.pdf")}>Download tickets (PDF)</button>
            <button type="button" className="secondary" onClick={() => save("calendar.ics", "event.ics")}>Add to calendar (.ics)</button>
          </div>
        </>
      )}
      {saveError && <Alert message={saveError} />}
      <div className="tickets">
        {valid.map((t) => <TicketQr key={t.id} code={t.code} label={name(t.ticket_type_id)} state={t.state} />)}
      </div>
    </Page>
  );
}
