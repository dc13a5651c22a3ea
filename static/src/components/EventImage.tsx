// An event's image: the stored 640 px rendition, with the 320 and 1280 px ones offered to
// the browser (srcset) so phones load the small one and wide screens the sharp one.
export function srcSet(url: string): string | undefined {
  if (!/-640\.jpg$/.test(url)) return undefined;
  return [320, 640, 1280].map((w) => `${url.replace(/-640\.jpg$/, `-${w}.jpg`)} ${w}w`).join(", ");
}

export function EventImage({ url, sizes, className }: { url: string; sizes: string; className?: string }) {
  if (!url) return null;
  return <img className={className ?? "event-image"} src={url} srcSet={srcSet(url)} sizes={sizes} alt="" loading="lazy" />;
}
