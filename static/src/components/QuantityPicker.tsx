// A labelled quantity input with − and + buttons, clamped to [0, max].

export function QuantityPicker({ id, label, value, max, onChange }: {
  id: string; label: string; value: number; max: number; onChange(value: number): void;
}) {
  const set = (n: number) => onChange(Math.max(0, Math.min(max, Number.isFinite(n) ? Math.floor(n) : 0)));
  return (
    <div className="qty">
      <button type="button" aria-label={`Fewer ${label} tickets`} onClick={() => set(value - 1)} disabled={value <= 0}>
        −
      </button>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={0}
        max={max}
        value={value}
        aria-label={`${label} quantity`}
        onChange={(e) => set(Number(e.target.value))}
      />
      <button type="button" aria-label={`More ${label} tickets`} onClick={() => set(value + 1)} disabled={value >= max}>
        +
      </button>
    </div>
  );
}
