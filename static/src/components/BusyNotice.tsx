// "Busy but selling": shown while the server answers in degraded mode (Leap-Degraded), so a
// slower hold or checkout does not look like a failure.
import { useSyncExternalStore } from "react";
import { isDegraded, subscribeDegraded } from "../api";
import { Alert } from "./Alert";

export function BusyNotice() {
  const degraded = useSyncExternalStore(subscribeDegraded, isDegraded);
  if (!degraded) return null;
  return (
    <Alert tone="info" message={{ text: "Busy but selling", next: "This may take a few seconds longer. Your tickets and payment are safe." }} />
  );
}
