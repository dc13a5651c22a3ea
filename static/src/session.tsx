// The signed-in buyer: token and profile, kept in localStorage and shared through context.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, setToken, setUnauthorizedHandler, type Session, type User } from "./api";
import { navigate } from "./router";

const KEY = "leap.session";

interface SessionState {
  user: User | null;
  signIn(session: Session): void;
  signOut(): Promise<void>;
}

const Ctx = createContext<SessionState | null>(null);

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    const s = raw ? (JSON.parse(raw) as Session) : null;
    return s && new Date(s.expires_at) > new Date() ? s : null;
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(() => {
    const s = load();
    setToken(s?.token ?? null);
    return s;
  });

  useEffect(() => {
    setUnauthorizedHandler(() => {
      localStorage.removeItem(KEY);
      setToken(null);
      setSession(null);
      const here = window.location.pathname + window.location.search;
      navigate(`/login?next=${encodeURIComponent(here)}`, true);
    });
  }, []);

  const value = useMemo<SessionState>(
    () => ({
      user: session?.user ?? null,
      signIn(s) {
        localStorage.setItem(KEY, JSON.stringify(s));
        setToken(s.token);
        setSession(s);
      },
      async signOut() {
        try {
          await api("/api/auth/logout", { method: "POST" });
        } catch {
          // The token is dropped locally either way.
        }
        localStorage.removeItem(KEY);
        setToken(null);
        setSession(null);
        navigate("/");
      },
    }),
    [session],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
