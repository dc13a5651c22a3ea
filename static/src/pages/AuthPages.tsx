// Log in and register. After either, the buyer returns to where they were (?next=).
import { useState, type FormEvent } from "react";
import { api, ApiError, type Session } from "../api";
import { Alert } from "../components/Alert";
import { Page } from "../components/Page";
import { describe, type Message } from "../messages";
import { navigate } from "../router";
import { useSession } from "../session";

function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function Field({ label, name, type = "text", value, onChange, error, autoComplete }: {
  label: string; name: string; type?: string; value: string; onChange(v: string): void; error?: string; autoComplete?: string;
}) {
  const id = `f-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} type={type} value={value} required autoComplete={autoComplete}
        aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-err` : undefined}
        onChange={(e) => onChange(e.target.value)} />
      {error && <p id={`${id}-err`} className="field-error">{error}</p>}
    </div>
  );
}

export function LoginPage({ next }: { next: string | null }) {
  const { signIn } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<Message | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      signIn(await api<Session>("/api/auth/login", { method: "POST", body: { email, password } }));
      navigate(safeNext(next), true);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? { text: "Wrong email or password." } : describe(err));
      setBusy(false);
    }
  };

  return (
    <Page title="Log in">
      <form onSubmit={submit} className="narrow">
        <Field label="Email" name="email" type="email" value={email} onChange={setEmail} autoComplete="email" />
        <Field label="Password" name="password" type="password" value={password} onChange={setPassword} autoComplete="current-password" />
        {error && <Alert message={error} />}
        <button type="submit" disabled={busy}>{busy ? "Logging in…" : "Log in"}</button>
      </form>
      <p>New here? <a href={`/register?next=${encodeURIComponent(safeNext(next))}`} onClick={(e) => { e.preventDefault(); navigate(`/register?next=${encodeURIComponent(safeNext(next))}`); }}>Create an account</a></p>
    </Page>
  );
}

export function RegisterPage({ next }: { next: string | null }) {
  const { signIn } = useSession();
  const [form, setForm] = useState({ display_name: "", email: "", password: "" });
  const [error, setError] = useState<ApiError | Message | null>(null);
  const [busy, setBusy] = useState(false);
  const fieldError = (f: string) => (error instanceof ApiError && error.field === f ? error.message : undefined);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("/api/auth/register", { method: "POST", body: form });
      signIn(await api<Session>("/api/auth/login", { method: "POST", body: { email: form.email, password: form.password } }));
      navigate(safeNext(next), true);
    } catch (err) {
      setError(err instanceof ApiError && err.field ? err : describe(err));
      setBusy(false);
    }
  };

  return (
    <Page title="Create an account">
      <form onSubmit={submit} className="narrow">
        <Field label="Your name" name="display_name" value={form.display_name} onChange={(v) => setForm({ ...form, display_name: v })} autoComplete="name" error={fieldError("display_name")} />
        <Field label="Email" name="email" type="email" value={form.email} onChange={(v) => setForm({ ...form, email: v })} autoComplete="email" error={fieldError("email")} />
        <Field label="Password (at least 8 characters)" name="password" type="password" value={form.password} onChange={(v) => setForm({ ...form, password: v })} autoComplete="new-password" error={fieldError("password")} />
        {error && !(error instanceof ApiError) && <Alert message={error} />}
        {error instanceof ApiError && <Alert message={describe(error)} />}
        <button type="submit" disabled={busy}>{busy ? "Creating…" : "Create account"}</button>
      </form>
    </Page>
  );
}
