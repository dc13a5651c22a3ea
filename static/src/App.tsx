// The app shell: header navigation and the route table.
import type { MouseEvent, ReactNode } from "react";
import { AdminEventPage } from "./pages/AdminEventPage";
import { LoginPage, RegisterPage } from "./pages/AuthPages";
import { CheckInPage, DoorsPage, StaffPage } from "./pages/DoorPage";
import { EventPage } from "./pages/EventPage";
import { EventsPage } from "./pages/EventsPage";
import { HoldPage } from "./pages/HoldPage";
import { MyOrdersPage } from "./pages/MyOrdersPage";
import { OrderPage } from "./pages/OrderPage";
import { WaitingPage } from "./pages/WaitingPage";
import { AuditPage } from "./pages/console/AuditPage";
import { ConsoleEventsPage } from "./pages/console/ConsoleEventsPage";
import { ConsoleOrderPage } from "./pages/console/ConsoleOrderPage";
import { DashboardPage } from "./pages/console/DashboardPage";
import { OrdersPage } from "./pages/console/OrdersPage";
import { PromoCodesPage } from "./pages/console/PromoCodesPage";
import { Page } from "./components/Page";
import { match, navigate, useLocation } from "./router";
import { useSession } from "./session";
import { BusyNotice } from "./components/BusyNotice";

function Link({ to, children }: { to: string; children: ReactNode }) {
  const go = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={go}>{children}</a>;
}

function RequireUser({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const here = window.location.pathname + window.location.search;
  if (!user) {
    return (
      <Page title="Please log in">
        <p>You need to be logged in to see this page.</p>
        <button type="button" onClick={() => navigate(`/login?next=${encodeURIComponent(here)}`)}>Log in</button>
      </Page>
    );
  }
  return <>{children}</>;
}

function Routes() {
  const { path, query } = useLocation();
  const { user } = useSession();
  let m;
  if (path === "/") return <EventsPage search={query} />;
  if ((m = match("/events/:id", path))) return <EventPage id={m.id} />;
  if ((m = match("/events/:id/queue", path))) return <RequireUser><WaitingPage id={m.id} /></RequireUser>;
  if ((m = match("/holds/:id", path))) return <RequireUser><HoldPage id={m.id} /></RequireUser>;
  if ((m = match("/orders/:id", path))) return <RequireUser><OrderPage id={m.id} /></RequireUser>;
  if (path === "/me/orders") return <RequireUser><MyOrdersPage /></RequireUser>;
  if (path === "/door") return <RequireUser><DoorsPage /></RequireUser>;
  if ((m = match("/door/:id", path))) return <RequireUser><CheckInPage key={m.id} eventId={m.id} /></RequireUser>;
  if (path === "/login") return <LoginPage next={query.get("next")} />;
  if (path === "/register") return <RegisterPage next={query.get("next")} />;
  const admin = (page: ReactNode) =>
    user?.role === "admin" ? page : <RequireUser><Page title="Organisers only"><p>This page is for event organisers.</p></Page></RequireUser>;
  if (path === "/admin/events/new") return admin(<AdminEventPage />);
  if ((m = match("/admin/events/:id/edit", path))) return admin(<AdminEventPage key={m.id} eventId={m.id} />);
  if ((m = match("/admin/events/:id/staff", path))) return admin(<StaffPage key={m.id} eventId={m.id} />);
  if (path === "/admin/events") return admin(<ConsoleEventsPage />);
  if ((m = match("/admin/events/:id/dashboard", path))) return admin(<DashboardPage key={m.id} eventId={m.id} />);
  if ((m = match("/admin/events/:id/orders", path))) return admin(<OrdersPage key={m.id} eventId={m.id} />);
  if ((m = match("/admin/events/:id/promos", path))) return admin(<PromoCodesPage key={m.id} eventId={m.id} />);
  if ((m = match("/admin/events/:id/audit", path))) return admin(<AuditPage key={m.id} eventId={m.id} />);
  if ((m = match("/admin/orders/:id", path))) return admin(<ConsoleOrderPage key={m.id} orderId={m.id} />);
  return <Page title="Page not found"><p>There is nothing here. <Link to="/">See upcoming events</Link>.</p></Page>;
}

export function App() {
  const { user, signOut } = useSession();
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <Link to="/"><span className="brand">Leap Ticketing</span></Link>
        <nav aria-label="Account">
          {user ? (
            <>
              {user.role === "admin" && <Link to="/admin/events">My events</Link>}
              {user.role === "admin" && <Link to="/admin/events/new">New event</Link>}
              <Link to="/me/orders">My orders</Link>
              <Link to="/door">Door</Link>
              <button type="button" className="link" onClick={() => signOut()}>Log out</button>
            </>
          ) : (
            <>
              <Link to="/login">Log in</Link>
              <Link to="/register">Register</Link>
            </>
          )}
        </nav>
      </header>
      <main id="main">
        <BusyNotice />
        <Routes />
      </main>
    </>
  );
}
