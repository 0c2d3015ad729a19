import { encode } from 'uqr';

/** A QR code as one SVG path (dark modules), crisp at any size; bytes in, so binary payloads survive. */
export function QrCode(props: { bytes: readonly number[]; label: string }) {
  const qr = encode(props.bytes, { ecc: 'M', border: 2 });
  let path = '';
  qr.data.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) path += `M${x} ${y}h1v1h-1z`;
    });
  });
  return (
    <svg
      class="qr"
      viewBox={`0 0 ${qr.size} ${qr.size}`}
      role="img"
      aria-label={props.label}
      shape-rendering="crispEdges"
      data-testid="safety-qr"
    >
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
