// "Busy but selling": shown while the server answers in degraded mode (Leap-Degraded), so a
// slower hold or checkout does not look like a failure. Any answer updates the flag; while it
// is up, the notice also asks the server itself every few seconds, so it goes away once the
// shop has recovered even on a page that has stopped talking to the API (an order page whose
// final answer left during the recovery).
import { useEffect, useSyncExternalStore } from "react";
import { api, isDegraded, subscribeDegraded } from "../api";
import { Alert } from "./Alert";

const RECHECK_MS = 5000;

export function BusyNotice() {
  const degraded = useSyncExternalStore(subscribeDegraded, isDegraded);
  useEffect(() => {
    if (!degraded) return;
    const timer = window.setInterval(() => {
      api("/api/health", { fresh: true }).catch(() => undefined); // the answer updates the flag
    }, RECHECK_MS);
    return () => window.clearInterval(timer);
  }, [degraded]);
  if (!degraded) return null;
  return (
    <Alert tone="info" message={{ text: "Busy but selling", next: "This may take a few seconds longer. Your tickets and payment are safe." }} />
  );
}
