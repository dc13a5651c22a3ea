// A ticket's QR code, rendered in the browser from its code.
import QRCode from "qrcode";
import { useEffect, useState } from "react";

const STATE: Record<string, string> = { valid: "Valid", checked_in: "Checked in", refunded: "Refunded" };

export function TicketQr({ code, label, state }: { code: string; label: string; state?: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(code, { margin: 1, width: 192, errorCorrectionLevel: "M" })
      .then((url) => live && setSrc(url))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [code]);
  return (
    <figure className="ticket">
      {src ? <img src={src} width={192} height={192} alt={`QR code for ticket (${label})`} /> : <div className="qr-placeholder" aria-hidden="true" />}
      <figcaption>
        <strong>{label}</strong>
        {state && <span className={`ticket-state ticket-state-${state}`}>{STATE[state] ?? state}</span>}
        <code>{code}</code>
      </figcaption>
    </figure>
  );
}
