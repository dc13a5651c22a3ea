// An error or notice a screen reader announces, with the next step on its own line.
import type { ReactNode } from "react";
import type { Message } from "../messages";

export function Alert({ message, tone = "error", children }: { message: Message; tone?: "error" | "info"; children?: ReactNode }) {
  return (
    <div className={`alert alert-${tone}`} role={tone === "error" ? "alert" : "status"}>
      <p className="alert-text">{message.text}</p>
      {message.next && <p className="alert-next">{message.next}</p>}
      {children}
    </div>
  );
}
