// Log in and register. After either, the buyer returns to where they were (?next=).
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, type Session } from "../api";
import { Alert } from "../components/Alert";
import { Page } from "../components/Page";
import { describe, fieldText, type Message } from "../messages";
import { policyText, type PasswordPolicy } from "../password";
import { navigate } from "../router";
import { useSession } from "../session";

function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function Field({ label, name, type = "text", value, onChange, error, hint, autoComplete, minLength, maxLength }: {
  label: string; name: string; type?: string; value: string; onChange(v: string): void; error?: string;
  hint?: string; autoComplete?: string; minLength?: number; maxLength?: number;
}) {
  const id = `f-${name}`;
  const describedBy = [hint && `${id}-hint`, error && `${id}-err`].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && <p id={`${id}-hint`} className="field-hint">{hint}</p>}
      <input id={id} name={name} type={type} value={value} required autoComplete={autoComplete}
        minLength={minLength} maxLength={maxLength}
        aria-invalid={error ? true : undefined} aria-describedby={describedBy}
        onChange={(e) => onChange(e.target.value)} />
      {error && <p id={`${id}-err`} className="field-error">{error}</p>}
    </div>
  );
}

const REGISTER_FIELDS = ["display_name", "email", "password"];

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
  const [policy, setPolicy] = useState<PasswordPolicy | null>(null);
  useEffect(() => {
    api<PasswordPolicy>("/api/auth/password-policy").then(setPolicy).catch(() => setPolicy(null));
  }, []);
  // A field's error is shown under that field only; anything else in the alert.
  const onField = error instanceof ApiError && !!error.field && REGISTER_FIELDS.includes(error.field);
  const fieldError = (f: string) => (onField && error instanceof ApiError && error.field === f ? fieldText(error) : undefined);
  useEffect(() => {
    // Focus reads the field with its error to a screen reader, like the alert would.
    if (onField && error instanceof ApiError) document.getElementById(`f-${error.field}`)?.focus();
  }, [error, onField]);

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
        <Field label="Password" name="password" type="password" value={form.password} onChange={(v) => setForm({ ...form, password: v })} autoComplete="new-password"
          hint={policy ? policyText(policy) : undefined} minLength={policy?.min_length} maxLength={policy?.max_length} error={fieldError("password")} />
        {error && !onField && <Alert message={error instanceof ApiError ? describe(error) : error} />}
        <button type="submit" disabled={busy}>{busy ? "Creating…" : "Create account"}</button>
      </form>
      <p>Already have an account? <a href={`/login?next=${encodeURIComponent(safeNext(next))}`} onClick={(e) => { e.preventDefault(); navigate(`/login?next=${encodeURIComponent(safeNext(next))}`); }}>Log in</a></p>
    </Page>
  );
}
