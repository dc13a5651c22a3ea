// The password rules, as the server states them (GET /api/auth/password-policy), in words.
// The numbers are never copied here: the form shows whatever the server enforces.

export interface PasswordPolicy {
  min_length: number;
  max_length: number;
  min_distinct: number;
  rejects_common: boolean;
  rejects_email_name: boolean;
}

export function policyText(p: PasswordPolicy): string {
  const rules = [`At least ${p.min_length} characters (at most ${p.max_length})`];
  if (p.min_distinct > 1) rules.push(`at least ${p.min_distinct} different characters`);
  const refused = [p.rejects_common && "very common passwords", p.rejects_email_name && "passwords containing the first part of your email"].filter(Boolean);
  let text = rules.join(", using ") + ".";
  if (refused.length) text += ` Not allowed: ${refused.join(" or ")}.`;
  return text;
}
