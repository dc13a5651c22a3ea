// Links between the console's pages of one event, and a link that navigates in the SPA.
import type { MouseEvent, ReactNode } from "react";
import { navigate } from "../../router";

export function To({ to, children, current }: { to: string; children: ReactNode; current?: boolean }) {
  const go = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={go} aria-current={current ? "page" : undefined}>{children}</a>;
}

const TABS: [string, string][] = [["dashboard", "Dashboard"], ["orders", "Orders"], ["promos", "Promo codes"], ["audit", "Activity"], ["edit", "Edit"]];

export function ConsoleNav({ eventId, here }: { eventId: string; here: string }) {
  return (
    <nav aria-label="Event console" className="console-nav">
      <To to="/admin/events">My events</To>
      {TABS.map(([path, label]) => (
        <To key={path} to={`/admin/events/${eventId}/${path}`} current={path === here}>{label}</To>
      ))}
    </nav>
  );
}
