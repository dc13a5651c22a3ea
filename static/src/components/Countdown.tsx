// Time left on a hold, ticking each second; calls onExpire once when it reaches zero.
import { useEffect, useRef, useState } from "react";
import { countdown } from "../format";

export function Countdown({ until, onExpire }: { until: string; onExpire?: () => void }) {
  const deadline = new Date(until).getTime();
  const [left, setLeft] = useState(() => (deadline - Date.now()) / 1000);
  const fired = useRef(false);
  useEffect(() => {
    const tick = () => {
      const s = (deadline - Date.now()) / 1000;
      setLeft(s);
      if (s <= 0 && !fired.current) {
        fired.current = true;
        onExpire?.();
      }
    };
    tick();
    const id = window.setInterval(tick, 1000);
    return () => window.clearInterval(id);
  }, [deadline, onExpire]);
  const urgent = left < 60;
  return (
    <p className={`countdown${urgent ? " countdown-urgent" : ""}`}>
      <span>Tickets held for </span>
      <time dateTime={until} aria-label={`${Math.max(0, Math.floor(left))} seconds left`}>
        {countdown(left)}
      </time>
      {/* Announce only the last minute, not every second. */}
      <span className="visually-hidden" aria-live="polite">
        {urgent && left > 0 ? "Less than a minute left on your hold." : ""}
      </span>
    </p>
  );
}
