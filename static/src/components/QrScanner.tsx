// The camera as a QR reader: the browser's BarcodeDetector where it exists, else the jsQR
// decoder (loaded only then). Calls onCode for each code it reads; a code held in front of
// the camera is reported once until another code (or none) is seen.
import { useEffect, useRef, useState } from "react";

const FRAME_MS = 250; // four reads a second: quick for a queue, light on a phone's battery

interface Detector { detect(source: CanvasImageSource): Promise<{ rawValue: string }[]> }
type DetectorClass = new (options: { formats: string[] }) => Detector;

async function reader(): Promise<(canvas: HTMLCanvasElement) => Promise<string | null>> {
  const Native = (window as unknown as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  if (Native) {
    const detector = new Native({ formats: ["qr_code"] });
    return async (canvas) => (await detector.detect(canvas))[0]?.rawValue ?? null;
  }
  const { default: jsQR } = await import("jsqr");
  return async (canvas) => {
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    if (!ctx) return null;
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return jsQR(image.data, image.width, image.height)?.data ?? null;
  };
}

export function QrScanner({ onCode }: { onCode: (code: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [on, setOn] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const handler = useRef(onCode);
  handler.current = onCode;

  useEffect(() => {
    if (!on) return;
    let stream: MediaStream | null = null;
    let timer: number | undefined;
    let live = true;
    let last: string | null = null;
    const canvas = document.createElement("canvas");
    (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      } catch {
        if (live) setProblem("The camera is not available. Allow camera access, or type the code below.");
        setOn(false);
        return;
      }
      const v = video.current;
      if (!live || !v) return;
      v.srcObject = stream;
      await v.play().catch(() => undefined);
      const read = await reader();
      const tick = async () => {
        if (!live) return;
        if (v.videoWidth > 0) {
          canvas.width = v.videoWidth;
          canvas.height = v.videoHeight;
          canvas.getContext("2d")?.drawImage(v, 0, 0);
          const code = await read(canvas).catch(() => null);
          if (code && code !== last) handler.current(code);
          last = code;
        }
        timer = window.setTimeout(tick, FRAME_MS);
      };
      tick();
    })();
    return () => {
      live = false;
      window.clearTimeout(timer);
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, [on]);

  return (
    <section className="scanner" aria-label="Camera scanner">
      {on ? (
        <>
          <video ref={video} muted playsInline aria-label="Camera view: hold a ticket's QR code in front of it" />
          <button type="button" className="secondary" onClick={() => setOn(false)}>Stop camera</button>
        </>
      ) : (
        <button type="button" onClick={() => { setProblem(null); setOn(true); }}>Scan with camera</button>
      )}
      {problem && <p className="muted" role="status">{problem}</p>}
    </section>
  );
}
