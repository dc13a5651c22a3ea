// Tickets sold per minute, drawn with uPlot (a small canvas charting library). The same
// figures are in a table below it for screen readers and keyboard users.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SalesPoint } from "./types";

export function SalesChart({ points }: { points: SalesPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [points.map((p) => Date.parse(p.minute) / 1000), points.map((p) => p.tickets)];
    if (plot.current) {
      plot.current.setData(data);
      return;
    }
    plot.current = new uPlot({
      width: Math.max(280, el.clientWidth), height: 220,
      series: [{}, { label: "Tickets", stroke: "#4b2bd1", fill: "rgba(75,43,209,0.12)", paths: uPlot.paths.bars?.({ size: [0.8, 40] }) }],
      axes: [{}, { label: "tickets / minute" }],
      scales: { x: { time: true } },
      legend: { show: false },
    }, data, el);
  }, [points]);
  useEffect(() => () => { plot.current?.destroy(); plot.current = null; }, []);
  return (
    <figure className="chart">
      <div ref={box} role="img" aria-label={`Tickets sold per minute, ${points.length} minutes with sales`} />
      <figcaption className="muted">Tickets sold per minute (UTC)</figcaption>
    </figure>
  );
}
