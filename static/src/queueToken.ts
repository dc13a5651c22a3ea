// The waiting room's admission token, kept per event for this tab (sessionStorage): the
// event page sends it with a hold; a refused or expired token sends the buyer back to queue.
const key = (eventId: string) => `leap.queue-token.${eventId}`;

export function saveQueueToken(eventId: string, token: string, expiresAt: string): void {
  sessionStorage.setItem(key(eventId), JSON.stringify({ token, expiresAt }));
}

export function queueToken(eventId: string, now: number = Date.now()): string | null {
  const raw = sessionStorage.getItem(key(eventId));
  if (!raw) return null;
  try {
    const { token, expiresAt } = JSON.parse(raw) as { token: string; expiresAt: string };
    if (new Date(expiresAt).getTime() > now) return token;
  } catch {
    // A damaged entry is as good as none.
  }
  sessionStorage.removeItem(key(eventId));
  return null;
}

export function dropQueueToken(eventId: string): void {
  sessionStorage.removeItem(key(eventId));
}
