// Page frame: sets the document title and moves focus to the heading on navigation, so
// keyboard and screen-reader users land at the top of the new page.
import { useEffect, useRef, type ReactNode } from "react";

export function Page({ title, children, heading }: { title: string; heading?: ReactNode; children: ReactNode }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Leap Ticketing`;
    h1.current?.focus();
  }, [title]);
  return (
    <>
      <h1 ref={h1} tabIndex={-1}>{heading ?? title}</h1>
      {children}
    </>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted" role="status">Loading {what}…</p>;
}
